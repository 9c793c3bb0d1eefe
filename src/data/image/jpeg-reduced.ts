/**
 * JPEG decoded for a small model input with shrink-on-load: libjpeg-turbo's DCT scaling (1/2, 1/4,
 * 1/8) inside libvips (sharp) decodes a full-size film straight to a fraction of its size, skipping
 * most of the inverse DCT and colour work; the exact area average to the model input follows in
 * toModelInput. The scale is the largest power of two with at least 8× the input side left; below 16×
 * the input side, or for anything sharp should not see (12-bit, lossless,
 * arithmetic), it is the full-size jpeg-js decode of `decodeImage`.
 */
import sharp from 'sharp';
import type { DecodedImage } from './decoded-image.ts';
import { describeThrown, ImageError } from './errors.ts';
import { decodeJpeg, jpegImage, readJpegFrameHeader } from './jpeg.ts';
import { checkDimensions, type DecodeLimits, resolveLimits } from './limits.ts';

// One libvips thread per call: the preprocessing thread is one of several workers on shared cores.
sharp.concurrency(1);
sharp.cache(false);

export async function decodeJpegReduced(
  bytes: Uint8Array,
  target: number,
  limits?: Partial<DecodeLimits>,
): Promise<DecodedImage> {
  const resolved = resolveLimits(limits);
  const header = readJpegFrameHeader(bytes);
  const dct = header && (header.marker === 0xc0 || header.marker === 0xc1 || header.marker === 0xc2);
  if (!header || !dct || header.precision !== 8) return decodeJpeg(bytes, resolved);
  checkDimensions(header.width, header.height, resolved, 'JPEG header');
  // JPEG scaling needs no tiling (libjpeg rounds the last block up), so only the size bounds k.
  const k = Math.floor(Math.max(header.width, header.height) / (8 * target));
  const scale = k >= 8 ? 8 : k >= 4 ? 4 : k >= 2 ? 2 : 1;
  if (scale === 1) return decodeJpeg(bytes, resolved);
  const width = Math.ceil(header.width / scale);
  const height = Math.ceil(header.height / scale);
  let data: Buffer;
  let channels: number;
  try {
    const out = await sharp(bytes, {
      limitInputPixels: resolved.maxPixels,
      failOn: 'truncated',
      // The samples as stored, like jpeg-js and training: no colour management from an embedded profile.
      ignoreIcc: true,
      autoOrient: false,
    })
      .resize(width, height, { fit: 'fill', fastShrinkOnLoad: true, kernel: 'nearest' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    data = out.data;
    channels = out.info.channels;
    if (out.info.width !== width || out.info.height !== height) {
      throw new Error(`decoded to ${out.info.width}×${out.info.height}, expected ${width}×${height}`);
    }
  } catch (thrown) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `JPEG could not be decoded (truncated or corrupt?): ${describeThrown(thrown)}`,
      {
        cause: thrown,
      },
    );
  }
  return jpegImage(width, height, data, channels, header.components === 1, {
    sourceWidth: header.width,
    sourceHeight: header.height,
  });
}
