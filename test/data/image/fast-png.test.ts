import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { decodeGrayPngFast } from '../../../src/data/image/fast-png.ts';
import { decodeImage, encodePng8, encodePng16 } from '../../../src/data/image/index.ts';
import { Rng } from '../../../src/data/random.ts';

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/**
 * A grey PNG whose row y uses filter type filters[y % filters.length] (encoders pick one adaptively,
 * so the fast path must handle them all, including against the zero row above the first).
 */
function grayPng(
  samples: Uint8Array,
  width: number,
  height: number,
  depth: 8 | 16,
  options: { filters?: number[]; sBit?: number; colorType?: number; interlace?: number } = {},
): Buffer {
  const bpp = depth / 8;
  const rowBytes = width * bpp;
  const raw = Buffer.alloc(height * (rowBytes + 1));
  const filters = options.filters ?? [0];
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length];
    raw[y * (rowBytes + 1)] = f;
    for (let x = 0; x < rowBytes; x++) {
      const v = samples[y * rowBytes + x];
      const a = x >= bpp ? samples[y * rowBytes + x - bpp] : 0;
      const b = y > 0 ? samples[(y - 1) * rowBytes + x] : 0;
      const c = x >= bpp && y > 0 ? samples[(y - 1) * rowBytes + x - bpp] : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
      raw[y * (rowBytes + 1) + 1 + x] = (v - predicted) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, options.colorType ?? 0, 0, 0, options.interlace ?? 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(options.sBit ? [chunk('sBIT', Uint8Array.of(options.sBit))] : []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function randomSamples(seed: number, n: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
}

test('every filter type, 8 and 16 bits, with and without sBIT: pixels equal decodeImage (pngjs) bit for bit', () => {
  for (const depth of [8, 16] as const) {
    for (const filters of [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]]) {
      for (const sBit of [undefined, depth === 16 ? 12 : 6]) {
        const [w, h] = [7, 5];
        const png = grayPng(randomSamples(depth + filters.length, w * h * (depth / 8)), w, h, depth, {
          filters,
          sBit,
        });
        const fast = decodeGrayPngFast(png);
        assert.ok(fast, `depth ${depth} filters ${filters} sBIT ${sBit}: fast path taken`);
        assert.deepEqual(fast, decodeImage(png), `depth ${depth} filters ${filters} sBIT ${sBit}`);
      }
    }
  }
});

test('the project encoders (16-bit with sBIT, 8-bit) decode identically', () => {
  const rng = new Rng(3);
  const data = Uint16Array.from({ length: 40 * 30 }, () => Math.floor(rng.next() * 4096));
  for (const png of [
    encodePng16({ width: 40, height: 30, bitsStored: 12, data }),
    encodePng8({ width: 40, height: 30, bitsStored: 12, data }),
  ]) {
    assert.deepEqual(decodeGrayPngFast(png), decodeImage(png));
  }
});

test('anything outside the fast path falls back (undefined): colour, interlaced, bad CRC, short or long data', () => {
  const samples = randomSamples(9, 6 * 4 * 3);
  assert.equal(decodeGrayPngFast(grayPng(samples, 6, 4, 8, { colorType: 2 })), undefined, 'RGB');
  assert.equal(decodeGrayPngFast(grayPng(samples, 6, 4, 8, { interlace: 1 })), undefined, 'interlaced');
  const good = grayPng(samples, 6, 4, 8);
  assert.ok(decodeGrayPngFast(good));
  const badCrc = Buffer.from(good);
  badCrc[40] ^= 0xff; // inside the IDAT data: its CRC no longer matches
  assert.equal(decodeGrayPngFast(badCrc), undefined, 'bad CRC');
  assert.equal(decodeGrayPngFast(good.subarray(0, good.length - 20)), undefined, 'truncated');
  // IHDR says 3 rows, the stream holds 4: the stream is longer than the image.
  const tall = grayPng(samples, 6, 4, 8);
  tall.writeUInt32BE(3, 20);
  tall.writeUInt32BE(crc32(tall.subarray(12, 29)), 29);
  assert.equal(decodeGrayPngFast(tall), undefined, 'data beyond the declared size');
  assert.equal(decodeGrayPngFast(Uint8Array.of(1, 2, 3)), undefined, 'not a PNG');
});
