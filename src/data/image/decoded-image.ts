import type { View } from '../types.ts';

export type ImageFormat = 'dicom' | 'png' | 'jpeg';

/** Descriptive, PHI-free facts about the source image (no names, IDs, dates, institutions or instance UIDs). */
export interface DecodedImageMeta {
  modality?: string;
  photometric?: string;
  bitsStored?: number;
  /** Transfer syntax UID: a standard identifier, not an instance UID. */
  transferSyntax?: string;
  view?: View;
  /** ViewPosition (0018,5101) as coded (PA, AP, LL, RL, LATERAL, …): a defined term, not PHI. */
  viewPosition?: string;
  /** BodyPartExamined (0018,0015) as coded (CHEST, HAND, …): a defined term, not PHI. */
  bodyPart?: string;
  /** Frames in the file. */
  frames?: number;
  /** Which frame was decoded, 1-based (DICOM frame numbers start at 1). */
  frame?: number;
  /**
   * The file's own size when the decoder returned a reduced image (a full-size film decoded for a
   * small model input, DecodeOptions.reduceFor); absent when `width`×`height` is the file's size.
   */
  sourceWidth?: number;
  sourceHeight?: number;
  /**
   * Colour content of the source before it became grey: mean over pixels of max(R,G,B) − min(R,G,B)
   * in [0, 1]; 0 for greyscale sources (and colour files whose channels are equal).
   */
  chroma?: number;
}

/**
 * A decoded image in display space: `pixels` are row-major intensities in [0, 1], bright = dense
 * (the MONOCHROME2 convention), after rescale, VOI windowing and MONOCHROME1 inversion.
 */
export interface DecodedImage {
  width: number;
  height: number;
  pixels: Float32Array;
  format: ImageFormat;
  meta: DecodedImageMeta;
}

/** Mean channel spread of interleaved RGB(A) samples scaled to [0, 1] (`stride` 3 or 4). */
export function meanChroma(
  samples: ArrayLike<number>,
  pixelCount: number,
  stride: number,
  scale: number,
): number {
  if (pixelCount === 0) return 0;
  // Every 4th pixel is plenty for a mean over an image.
  const step = pixelCount > 65_536 ? 4 : 1;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < pixelCount; i += step, n++) {
    const p = i * stride;
    const r = samples[p];
    const g = samples[p + 1];
    const b = samples[p + 2];
    sum += Math.max(r, g, b) - Math.min(r, g, b);
  }
  return (sum / n) * scale;
}

/** Rec. 601 luma of 0..1 channels; exact when the three channels are equal (grey stored as colour). */
export function luminance(r: number, g: number, b: number): number {
  if (r === g && g === b) return r;
  return 0.299 * r + 0.587 * g + 0.114 * b;
}
