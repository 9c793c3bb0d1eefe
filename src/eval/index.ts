/** Evaluation: per-sample scoring, aggregate metrics with case-bootstrap intervals, the paired promotion gate, the risk calibrator. */
export {
  normalizeAnswer,
  readChoice,
  readCtrBucket,
  readFindings,
  readLocation,
  readSeverity,
  readSizeMm,
  readTip,
  readYesNo,
  SIZE_TOLERANCE,
  sizeMatches,
} from './answers.ts';
export { percentileInterval, replicates, resampleCounts } from './bootstrap.ts';
export {
  type FitOptions,
  featureVector,
  RISK_FEATURES,
  RiskCalibrator,
  type RiskCalibratorJSON,
  type RiskExample,
  type RiskFeatures,
  type RiskQuality,
  riskExamples,
  riskQuality,
  unknownWordRate,
} from './calibrate.ts';
export { type Comparison, compareModels, type MetricDifference } from './compare.ts';
export { EvaluationError, type EvaluationErrorCode } from './errors.ts';
export {
  type EvalRecord,
  formatComparison,
  formatEvalTable,
  formatReliability,
  type GateRecord,
  toEvalRecord,
  toGateRecord,
} from './format.ts';
export {
  DEFAULT_SAFETY_MARGINS,
  type GateCheck,
  type GateDecision,
  type GateOptions,
  gateDecision,
  type SafetyMargins,
} from './gate.ts';
export { type MetricDef, metricCatalogue, TASKS } from './metric-defs.ts';
export {
  DEFAULT_CALIBRATION_TASKS,
  type EvalOptions,
  type EvalResult,
  evaluate,
  type MetricValue,
  type ReliabilityBin,
} from './metrics.ts';
export { type FindingJudgement, type Prediction, type SampleScore, scorePrediction, setF1 } from './score.ts';
export { PRESENCE_TASKS } from './tally.ts';
export {
  type CaseTruth,
  isAdversarialNegative,
  related,
  type TruthIndex,
  truthFromCases,
  truthFromSamples,
} from './truth.ts';
