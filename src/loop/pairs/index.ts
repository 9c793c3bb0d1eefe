/** Counterfactual preference pairs for the CheXPO loop: generation, images, store rows, TRL export, summary. */
export { answerFor } from './answer-writer.ts';
export { sentenceCase } from './casing.ts';
export { PairsError, type PairsErrorCode } from './errors.ts';
export {
  DEFAULT_MAX_PER_SAMPLE,
  draftsFor,
  PAIR_GENERATORS,
  type PairsOptions,
  pairsFor,
  pairsForAll,
  sampleImage,
} from './generate.ts';
export { decodeImageRef, encodeImageRef, imageRefSlug } from './image-ref.ts';
export { ImageResolver, type ImageResolverOptions } from './images.ts';
export type { Draft, GeneratorContext, PairGenerator } from './kinds/context.ts';
export { fromPreferencePair, pairId, type StoredProvenance, toPreferencePairs } from './store-rows.ts';
export { formatPairSummary, type PairSummary, summarizePairs } from './summary.ts';
export { exportTrl, type TrlExportResult, type TrlRow, toTrlRow } from './trl-export.ts';
export { type Judgement, judgeAnswer, type Verdict } from './verify.ts';
export { DEFAULT_KIND_WEIGHTS } from './weights.ts';
