import jpeg from 'jpeg-js';
import { type DecodedImage, luminance, meanChroma } from './decoded-image.ts';
import { ImageError, undecodableOnThrow } from './errors.ts';
import { checkDimensions, type DecodeLimits } from './limits.ts';

export interface JpegFrameHeader {
  /** SOF marker (0xC0 baseline, 0xC1 extended, 0xC2 progressive, 0xC3 lossless, …). */
  marker: number;
  precision: number;
  width: number;
  height: number;
  components: number;
}

export function hasJpegSignature(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Scans markers to the first SOFn segment without decoding anything. */
export function readJpegFrameHeader(bytes: Uint8Array): JpegFrameHeader | undefined {
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 10 > bytes.length) return undefined;
      return {
        marker,
        precision: bytes[pos + 4],
        height: (bytes[pos + 5] << 8) | bytes[pos + 6],
        width: (bytes[pos + 7] << 8) | bytes[pos + 8],
        components: bytes[pos + 9],
      };
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    pos += 2 + length;
  }
  return undefined;
}

/** Samples of one 8-bit JPEG: grey (1 sample per pixel) or RGB after jpeg-js's colour transform. */
export interface JpegSamples {
  width: number;
  height: number;
  /** RGBA bytes as returned by jpeg-js. */
  rgba: Uint8Array;
  components: number;
}

/**
 * Decodes baseline or progressive 8-bit Huffman JPEG. Lossless, arithmetic-coded and 12-bit JPEG
 * are not supported by jpeg-js and are reported as UNSUPPORTED_IMAGE_FORMAT.
 */
export function decodeJpegSamples(bytes: Uint8Array, limits: DecodeLimits, source = 'JPEG'): JpegSamples {
  const header = readJpegFrameHeader(bytes);
  if (!header) throw new ImageError('IMAGE_UNDECODABLE', `${source} has no frame header (truncated file?)`);
  const supportedMarker = header.marker === 0xc0 || header.marker === 0xc1 || header.marker === 0xc2;
  if (!supportedMarker || header.precision !== 8) {
    throw new ImageError(
      'UNSUPPORTED_IMAGE_FORMAT',
      `${source} uses SOF marker 0x${header.marker.toString(16)} with ${header.precision}-bit precision; ` +
        'only 8-bit baseline/extended/progressive Huffman JPEG is supported',
    );
  }
  checkDimensions(header.width, header.height, limits, `${source} header`);
  const maxResolutionInMP = limits.maxPixels / 1e6;
  // Decoder working set is a few bytes per pixel per component; leave headroom over the RGBA output.
  const maxMemoryUsageInMB = Math.ceil((limits.maxPixels * 4 * Math.max(1, header.components) * 3) / 2 ** 20);
  const decoded = undecodableOnThrow(source, () => {
    try {
      return jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP,
        maxMemoryUsageInMB,
      });
    } catch (thrown) {
      if (thrown instanceof Error && /maxMemoryUsageInMB|maxResolutionInMP/.test(thrown.message)) {
        throw new ImageError(
          'IMAGE_TOO_LARGE',
          `${source} needs more memory than allowed: ${thrown.message}`,
        );
      }
      throw thrown;
    }
  });
  if (decoded.width !== header.width || decoded.height !== header.height) {
    throw new ImageError('IMAGE_UNDECODABLE', `${source} decoded to a size its header does not declare`);
  }
  return { width: decoded.width, height: decoded.height, rgba: decoded.data, components: header.components };
}

export function decodeJpeg(bytes: Uint8Array, limits: DecodeLimits): DecodedImage {
  const { width, height, rgba, components } = decodeJpegSamples(bytes, limits);
  return jpegImage(width, height, rgba, 4, components === 1);
}

/**
 * 8-bit JPEG samples (1 channel, or `stride` interleaved with R, G, B first) as a DecodedImage:
 * grey is v / 255, colour Rec. 601 luma with its chroma measured.
 */
export function jpegImage(
  width: number,
  height: number,
  samples: Uint8Array,
  stride: number,
  gray: boolean,
  meta: Partial<DecodedImage['meta']> = {},
): DecodedImage {
  const n = width * height;
  const pixels = new Float32Array(n);
  const s = 1 / 255;
  if (stride === 1) {
    for (let i = 0; i < n; i++) pixels[i] = samples[i] * s;
  } else {
    for (let i = 0, p = 0; i < n; i++, p += stride)
      pixels[i] = luminance(samples[p] * s, samples[p + 1] * s, samples[p + 2] * s);
  }
  return {
    width,
    height,
    pixels,
    format: 'jpeg',
    meta: {
      photometric: gray ? 'GRAY' : 'COLOR',
      bitsStored: 8,
      chroma: stride === 1 ? 0 : meanChroma(samples, n, stride, s),
      ...meta,
    },
  };
}
