/** Running a model version over a data set: predictions for `chexpo eval`, and the version's risk calibrator and OOD reference. */

export { EvaluationRunError, type EvaluationRunErrorCode } from '../errors.ts';
export {
  type ImageFeatures,
  type IntensityStats,
  intensityStats,
  type OodDetails,
  type OodFitOptions,
  type OodJSON,
  OodReference,
  quantileOf,
} from '../ood/v1.ts';
export { caseInput, type DataCase, readSplit, type SplitData, seededPick, selectSamples } from './dataset.ts';
export {
  type CalibrationOptions,
  type CalibrationResult,
  caseFeatures,
  derangement,
  fitCalibration,
  type OpenedVersion,
  openVersion,
  predictSamples,
  type RunOptions,
  type RunPrediction,
  runSplit,
} from './run.ts';
