/** ORT feeds for one side (chosen or rejected) of a list of DPO examples. */
import { type Feeds, ortTensor } from '../../model/ort/session.ts';
import { collate } from '../../model/vlm/tokens.ts';
import type { DpoExample } from './data.ts';

export type Side = 'chosen' | 'rejected';

/**
 * `<prefix>image` (B, 1, S, S) and `<prefix>input_ids`, `<prefix>target_ids`, `<prefix>loss_mask` (B, T),
 * right-padded to the side's longest sequence in the batch (causal attention keeps padding out of reach).
 */
export function sideFeeds(
  examples: readonly DpoExample[],
  side: Side,
  imageSize: number,
  prefix: string,
): Feeds {
  const batch = collate(examples.map((e) => e[side]));
  const pixels = imageSize * imageSize;
  const images = new Float32Array(examples.length * pixels);
  examples.forEach((e, i) => {
    images.set(side === 'chosen' ? e.chosenImage : e.rejectedImage, i * pixels);
  });
  return {
    [`${prefix}image`]: ortTensor('float32', images, [examples.length, 1, imageSize, imageSize]),
    [`${prefix}input_ids`]: ortTensor('int64', batch.inputIds, [batch.batch, batch.length]),
    [`${prefix}target_ids`]: ortTensor('int64', batch.targetIds, [batch.batch, batch.length]),
    [`${prefix}loss_mask`]: ortTensor('float32', batch.lossMask, [batch.batch, batch.length]),
  };
}
