/** ORT feeds for one side (chosen, rejected or SFT replay) of a DPO batch. */
import { type Feeds, ortTensor } from '../../model/ort/session.ts';
import { collate, type TrainingSequence } from '../../model/vlm/tokens.ts';
import type { DpoExample } from './data.ts';

export type Side = 'chosen' | 'rejected';

/**
 * `<prefix>image` (B, 1, S, S) and `<prefix>input_ids`, `<prefix>target_ids`, `<prefix>loss_mask` (B, T),
 * right-padded to the longest sequence given (causal attention keeps padding out of reach).
 */
export function sequenceFeeds(
  sequences: readonly TrainingSequence[],
  images: readonly Float32Array[],
  imageSize: number,
  prefix: string,
): Feeds {
  const batch = collate([...sequences]);
  const pixels = imageSize * imageSize;
  const data = new Float32Array(images.length * pixels);
  images.forEach((image, i) => {
    data.set(image, i * pixels);
  });
  return {
    [`${prefix}image`]: ortTensor('float32', data, [images.length, 1, imageSize, imageSize]),
    [`${prefix}input_ids`]: ortTensor('int64', batch.inputIds, [batch.batch, batch.length]),
    [`${prefix}target_ids`]: ortTensor('int64', batch.targetIds, [batch.batch, batch.length]),
    [`${prefix}loss_mask`]: ortTensor('float32', batch.lossMask, [batch.batch, batch.length]),
  };
}

/** One side of a list of DPO examples. */
export function sideFeeds(
  examples: readonly DpoExample[],
  side: Side,
  imageSize: number,
  prefix: string,
): Feeds {
  return sequenceFeeds(
    examples.map((e) => e[side]),
    examples.map((e) => (side === 'chosen' ? e.chosenImage : e.rejectedImage)),
    imageSize,
    prefix,
  );
}
