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
  /** Frames in the file; only the first is decoded. */
  frames?: number;
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

/** Rec. 601 luma of 0..1 channels; exact when the three channels are equal (grey stored as colour). */
export function luminance(r: number, g: number, b: number): number {
  if (r === g && g === b) return r;
  return 0.299 * r + 0.587 * g + 0.114 * b;
}
