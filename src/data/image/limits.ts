import { ImageError } from './errors.ts';

/**
 * The most a compressed data set may inflate to (deflated DICOM), in bytes: the one place this
 * figure lives (docs/security.md cites it). A 300 KB deflated file can otherwise expand to
 * hundreds of MiB on the shared preprocessing thread.
 */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/** Bounds checked from headers before any pixel buffer is allocated. */
export interface DecodeLimits {
  /** Largest accepted encoded file, in bytes. */
  maxBytes: number;
  /** Largest accepted width × height. */
  maxPixels: number;
  /** Largest accepted width or height. */
  maxSide: number;
  /** Largest inflated deflated-DICOM data set, in bytes (decompression bombs). */
  maxInflatedBytes: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxPixels: 50_000_000,
  maxSide: 16_384,
  maxInflatedBytes: MAX_INFLATED_BYTES,
});

export function resolveLimits(limits: Partial<DecodeLimits> | undefined): DecodeLimits {
  return { ...DEFAULT_DECODE_LIMITS, ...limits };
}

export function checkByteSize(byteLength: number, limits: DecodeLimits): void {
  if (byteLength > limits.maxBytes) {
    throw new ImageError(
      'IMAGE_TOO_LARGE',
      `image file is ${byteLength} bytes; the limit is ${limits.maxBytes} bytes`,
    );
  }
}

/** Rejects absent, zero or oversized dimensions declared by a header. */
export function checkDimensions(width: number, height: number, limits: DecodeLimits, source: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageError('IMAGE_UNDECODABLE', `${source} declares invalid dimensions ${width}×${height}`);
  }
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels) {
    throw new ImageError(
      'IMAGE_TOO_LARGE',
      `${source} declares ${width}×${height} pixels; the limits are ${limits.maxSide} px per side and ` +
        `${limits.maxPixels} pixels in total — downsample the image before sending it`,
    );
  }
}
