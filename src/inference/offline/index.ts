/**
 * The offline runner: a model version over a data set, for predictions (`chexpo eval`, mining) and
 * to fit the version's risk calibrator and OOD reference (release). The OOD module is ../ood/.
 */
export { EvaluationRunError, type EvaluationRunErrorCode } from '../errors.ts';
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
