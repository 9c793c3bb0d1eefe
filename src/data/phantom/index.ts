/** Procedural chest radiographs with exact labels: sampling, rendering and counterfactual edits. */
export { applyHeart, CTR_RANGES, sampleAnatomy } from './anatomy.ts';
export {
  type CooccurrenceBoost,
  conditionalProbability,
  defaultPhantomConfig,
  expectedConditional,
  expectedPrevalence,
  MAX_PROBABILITY,
  mergePhantomConfig,
  type PhantomConfig,
  type PhantomConfigOverrides,
  SAMPLING_ORDER,
  validateConfig,
} from './config.ts';
export { type CaseEdit, editCase } from './edit.ts';
export { PhantomError, type PhantomErrorCode } from './errors.ts';
export { FIELD_OF_VIEW_MM, heartShape, lateralX } from './geometry.ts';
export type { PixelBox } from './raster.ts';
export { findingRegion } from './region.ts';
export { BITS_STORED, type RenderOptions, renderCase } from './render.ts';
export { caseId, isSubtle, patientId, SIZE_BANDS_MM, sampleAttributes, sampleCase } from './sample.ts';
