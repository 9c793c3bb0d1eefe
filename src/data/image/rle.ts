/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of 16 little-endian uint32 (segment count,
 * then up to 15 segment offsets), then one PackBits segment per byte plane — for 16-bit samples
 * the most significant bytes first, for colour one plane per sample.
 */
import { ImageError } from './errors.ts';

/** Decodes one RLE frame into interleaved little-endian samples (`pixelCount × samples × bytes`). */
export function decodeRleFrame(
  frame: Uint8Array,
  pixelCount: number,
  samplesPerPixel: number,
  bytesPerSample: number,
): Uint8Array {
  if (frame.length < 64) throw new ImageError('IMAGE_UNDECODABLE', 'RLE frame is shorter than its header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) {
    throw new ImageError('IMAGE_UNDECODABLE', `RLE frame has ${segments} segments, expected ${expected}`);
  }
  const out = new Uint8Array(pixelCount * expected);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || end < start) {
      throw new ImageError('IMAGE_UNDECODABLE', `RLE segment ${s} has invalid offsets`);
    }
    const sample = Math.floor(s / bytesPerSample);
    // Segment order within a sample is most significant byte first; output is little endian.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    unpackBits(frame.subarray(start, end), out, sample * bytesPerSample + byteInSample, expected, pixelCount);
  }
  return out;
}

/** PackBits: n ≥ 0 copies n + 1 literal bytes; −127 ≤ n ≤ −1 repeats the next byte 1 − n times. */
function unpackBits(src: Uint8Array, out: Uint8Array, offset: number, stride: number, count: number): void {
  let i = 0;
  let written = 0;
  while (written < count && i < src.length) {
    const n = (src[i++] << 24) >> 24;
    if (n >= 0) {
      for (let k = 0; k <= n && written < count && i < src.length; k++) {
        out[offset + stride * written++] = src[i++];
      }
    } else if (n !== -128) {
      const value = src[i++];
      for (let k = 0; k < 1 - n && written < count; k++) out[offset + stride * written++] = value;
    }
  }
  if (written < count) {
    throw new ImageError('IMAGE_UNDECODABLE', `RLE segment ends after ${written} of ${count} bytes`);
  }
}

/** Encodes interleaved little-endian samples as one RLE frame (used to write and test compressed files). */
export function encodeRleFrame(
  samples: Uint8Array,
  pixelCount: number,
  samplesPerPixel: number,
  bytesPerSample: number,
): Uint8Array {
  const stride = samplesPerPixel * bytesPerSample;
  const segments: Uint8Array[] = [];
  for (let sample = 0; sample < samplesPerPixel; sample++) {
    for (let b = bytesPerSample - 1; b >= 0; b--) {
      const plane = new Uint8Array(pixelCount);
      for (let p = 0; p < pixelCount; p++) plane[p] = samples[p * stride + sample * bytesPerSample + b];
      segments.push(packBits(plane));
    }
  }
  const total = 64 + segments.reduce((sum, s) => sum + s.length, 0);
  const frame = new Uint8Array(total + (total % 2));
  const view = new DataView(frame.buffer);
  view.setUint32(0, segments.length, true);
  let pos = 64;
  segments.forEach((segment, s) => {
    view.setUint32(4 + 4 * s, pos, true);
    frame.set(segment, pos);
    pos += segment.length;
  });
  return frame;
}

function packBits(plane: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < plane.length) {
    let run = 1;
    while (i + run < plane.length && run < 128 && plane[i + run] === plane[i]) run++;
    if (run >= 2) {
      out.push((1 - run) & 0xff, plane[i]);
      i += run;
      continue;
    }
    let literal = 1;
    while (
      i + literal < plane.length &&
      literal < 128 &&
      !(i + literal + 1 < plane.length && plane[i + literal] === plane[i + literal + 1])
    ) {
      literal++;
    }
    out.push(literal - 1, ...plane.subarray(i, i + literal));
    i += literal;
  }
  return Uint8Array.from(out);
}
