/**
 * The one definition of how a GrayImage's integer samples map to display intensity, shared by the
 * encoders and by `grayToDecoded`: intensity = value / (2^bitsStored − 1).
 */
import type { GrayImage } from '../types.ts';
import { ImageError } from './errors.ts';

export function maxValueOf(bitsStored: number): number {
  return 2 ** bitsStored - 1;
}

export function assertGrayImage(img: GrayImage): void {
  const { width, height, bitsStored, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageError('INVALID_GRAY_IMAGE', `GrayImage has invalid size ${width}×${height}`);
  }
  if (data.length !== width * height) {
    throw new ImageError('INVALID_GRAY_IMAGE', `GrayImage has ${data.length} samples for ${width}×${height}`);
  }
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > 16) {
    throw new ImageError('INVALID_GRAY_IMAGE', `GrayImage bitsStored ${bitsStored} is not in 1..16`);
  }
  const max = maxValueOf(bitsStored);
  for (let i = 0; i < data.length; i++) {
    if (data[i] > max) {
      throw new ImageError(
        'INVALID_GRAY_IMAGE',
        `GrayImage sample ${data[i]} exceeds ${bitsStored}-bit range`,
      );
    }
  }
}

/**
 * Widens a `bits`-bit sample to 16 bits by bit replication (the PNG spec's recommended scaling),
 * so `w >> (16 − bits)` recovers the sample exactly and w / 65535 ≈ v / (2^bits − 1) for viewers.
 */
export function replicateTo16(value: number, bits: number): number {
  let out = value << (16 - bits);
  for (let shift = 16 - bits - bits; shift > -bits; shift -= bits) {
    out |= shift >= 0 ? value << shift : value >> -shift;
  }
  return out & 0xffff;
}
