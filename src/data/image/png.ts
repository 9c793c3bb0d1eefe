import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { type DecodedImage, luminance, meanChroma } from './decoded-image.ts';
import { ImageError, undecodableOnThrow } from './errors.ts';
import { checkDimensions, type DecodeLimits } from './limits.ts';
import { hasPngSignature, readPngHeader } from './png-chunks.ts';

const GRAY_COLOR_TYPES = new Set([0, 4]);

/**
 * Decodes a PNG to display intensities. Grey samples map to value / (2^bits − 1); when a grey PNG
 * carries an sBIT chunk with s < bitDepth the sample is first shifted right to its s significant
 * bits, which undoes the bit replication `encodePng16` uses, so a 12-bit phantom decodes exactly.
 * Colour (RGB, palette) becomes Rec. 601 luma; alpha is ignored.
 */
export function decodePng(bytes: Uint8Array, limits: DecodeLimits): DecodedImage {
  if (!hasPngSignature(bytes)) throw new ImageError('IMAGE_UNDECODABLE', 'not a PNG file');
  const header = readPngHeader(bytes);
  if (!header) throw new ImageError('IMAGE_UNDECODABLE', 'PNG has no readable IHDR chunk (truncated file?)');
  checkDimensions(header.width, header.height, limits, 'PNG header');
  if (header.interlaced) guardInterlacedInflate(bytes, header.width, header.height);

  const png = undecodableOnThrow('PNG', () =>
    PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true }),
  );
  const { width, height } = png;
  // pngjs expands every colour type to 4 samples per pixel; palette entries are 8-bit.
  const depth = header.colorType === 3 ? 8 : header.bitDepth;
  const sig = header.significantBits;
  const gray = GRAY_COLOR_TYPES.has(header.colorType);
  const shift = gray && sig !== undefined && sig >= 1 && sig < depth ? depth - sig : 0;
  const scale = 1 / (2 ** (depth - shift) - 1);
  const data = png.data as unknown as ArrayLike<number>;
  const pixels = new Float32Array(width * height);
  for (let i = 0, p = 0; i < pixels.length; i++, p += 4) {
    pixels[i] = gray
      ? (data[p] >> shift) * scale
      : luminance(data[p] * scale, data[p + 1] * scale, data[p + 2] * scale);
  }
  return {
    width,
    height,
    pixels,
    format: 'png',
    meta: {
      photometric: gray ? 'GRAY' : 'COLOR',
      bitsStored: depth - shift,
      chroma: gray ? 0 : meanChroma(data, pixels.length, 4, scale),
    },
  };
}

/**
 * pngjs bounds inflation by the image size only for non-interlaced images; for interlaced ones,
 * inflate once with a bound first so a decompression bomb stops here.
 */
function guardInterlacedInflate(bytes: Uint8Array, width: number, height: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  for (let pos = 8; pos + 8 <= bytes.length; ) {
    const length = view.getUint32(pos);
    if (String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)) === 'IDAT') {
      parts.push(bytes.subarray(pos + 8, Math.min(bytes.length, pos + 8 + length)));
    }
    pos += 12 + length;
  }
  // 8 bytes per pixel (16-bit RGBA) plus one filter byte per row of each of the 7 passes.
  const bound = width * height * 8 + 7 * (height + 1) * 2;
  undecodableOnThrow('interlaced PNG', () => {
    try {
      inflateSync(Buffer.concat(parts), { maxOutputLength: bound });
    } catch (thrown) {
      if (thrown instanceof RangeError) {
        throw new ImageError('IMAGE_TOO_LARGE', 'PNG image data inflates beyond its declared size');
      }
      throw thrown;
    }
  });
}
