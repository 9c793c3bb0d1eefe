/**
 * DPO training for the CheXPO loop: preference pairs (src/loop/pairs) → tokenised, image-resolved
 * examples → reference log-probs under the frozen base version → the `train_dpo` graph in the shared
 * training loop → a staging version directory with TRL-style metrics and curves.
 *
 *   const result = await trainDpo({ baseVersionDir, pairs, resolveImage, outDir, options, onProgress });
 *   result.versionDir   // config + tokenizer of the base, new weights; refit the calibrator, then publish
 *   result.summary      // the run record's `dpo` block
 */
export {
  buildDpoDataset,
  type DatasetOptions,
  type DpoDataset,
  type DpoExample,
  type ImageResolveFn,
  imageRefKey,
} from './data.ts';
export { DpoError, type DpoErrorCode } from './errors.ts';
export {
  type DpoStepStats,
  type DpoSummary,
  type RunRecordDpo,
  runRecordDpo,
  TRL_KEYS,
} from './metrics.ts';
export { DEFAULT_DPO_TRAIN, type DpoTrainOptions, resolveDpoOptions } from './options.ts';
export { caseImageResolver, readPairsFile } from './pair-files.ts';
export { DPO_STAT_OUTPUTS, type DpoBatch, type DpoProgramOptions, dpoProgram } from './program.ts';
export { type PairLogProbs, PairScorer, referenceLogProbs } from './reference.ts';
export { type DpoDataCounts, type DpoResult, type TrainDpoInput, trainDpo } from './train.ts';
