/**
 * A minimal greyscale PNG writer (IHDR, optional sBIT, one IDAT, IEND). pngjs's packer tries all
 * five filters per row and was ~60 ms for a 512² 16-bit image; a fixed Paeth filter with zlib
 * level 6 is several times faster at similar size, which matters when synthesising 10k cases.
 * Files are read back with pngjs in the tests.
 */
import { deflateSync } from 'node:zlib';
import { PNG_SIGNATURE, pngChunk } from './png-chunks.ts';

export interface GrayPngInput {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /** Samples in PNG byte order: one byte per pixel (8-bit) or two big-endian bytes (16-bit), row-major. */
  bytes: Uint8Array;
  /** Significant bits, written as sBIT when below bitDepth. */
  significantBits?: number;
}

export function writeGrayPng(input: GrayPngInput): Uint8Array {
  const { width, height, bitDepth, bytes } = input;
  const bpp = bitDepth / 8;
  const stride = width * bpp;
  // Each scanline: filter type byte 4 (Paeth), then the filtered bytes.
  const filtered = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const out = y * (stride + 1);
    filtered[out] = 4;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? bytes[row + i - bpp] : 0;
      const b = y > 0 ? bytes[row - stride + i] : 0;
      const c = y > 0 && i >= bpp ? bytes[row - stride + i - bpp] : 0;
      filtered[out + 1 + i] = (bytes[row + i] - paeth(a, b, c)) & 0xff;
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = bitDepth;
  // colour type 0 (grey), compression 0, filter method 0, no interlace.
  const chunks = [PNG_SIGNATURE, pngChunk('IHDR', header)];
  const sig = input.significantBits;
  if (sig !== undefined && sig < bitDepth) chunks.push(pngChunk('sBIT', Uint8Array.of(sig)));
  chunks.push(pngChunk('IDAT', deflateSync(filtered, { level: 6 })), pngChunk('IEND', new Uint8Array(0)));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const png = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    png.set(c, pos);
    pos += c.length;
  }
  return png;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}
