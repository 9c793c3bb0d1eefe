/**
 * A version carried to a k× larger input with the same patch grid: patches k× wider, the patch embedding
 * spread over each k×k block of pixels (each weight divided by k²). On an image whose k×k box average is the
 * parent's input (what preprocessing's area resampling gives), the result computes exactly the parent's
 * function, so training at the larger input starts where the parent stands.
 */
import type { VlmConfig } from './config.ts';
import { VlmError } from './errors.ts';
import type { Weights } from './weights.ts';

export function rescaleInput(
  parent: VlmConfig,
  weights: Weights,
  imageSize: number,
): { config: VlmConfig; weights: Weights } {
  const k = imageSize / parent.imageSize;
  if (!Number.isInteger(k) || k < 1)
    throw new VlmError(
      'VLM_BAD_CONFIG',
      `input ${imageSize} px is not a whole multiple of ${parent.imageSize} px`,
    );
  if (parent.stemSubPatch !== undefined)
    throw new VlmError('VLM_BAD_CONFIG', 'rescale a model before it has a pixel stem');
  if (k === 1) return { config: parent, weights };
  const p = parent.patchSize;
  const q = p * k;
  const e = parent.encoderDim;
  const old = weights['enc.patch.weight']; // (p·p, E), patch pixels row-major
  const spread = new Float32Array(q * q * e);
  for (let y = 0; y < q; y++)
    for (let x = 0; x < q; x++) {
      const from = (Math.floor(y / k) * p + Math.floor(x / k)) * e;
      const to = (y * q + x) * e;
      for (let c = 0; c < e; c++) spread[to + c] = old[from + c] / (k * k);
    }
  return {
    config: { ...parent, imageSize, patchSize: q },
    weights: { ...weights, 'enc.patch.weight': spread },
  };
}
