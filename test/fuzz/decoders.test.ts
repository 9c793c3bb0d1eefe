/**
 * Property: `decodeImage` on any bytes either decodes or throws an ImageError whose code is one the
 * API maps to a 4xx — never another exception. Inputs: random bytes, and real files (the real CR
 * DICOM, CheXpert PNGs, a rendered phantom as 16-bit PNG, DICOM and JPEG) truncated, bit-flipped,
 * spliced, and given absurd header dimensions. Fixed seed, bounded runs; each test reports how many
 * cases it tried. (test/data/image/errors.test.ts holds the hand-picked cases.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { decodeImage, encodeDicom, encodePng16, ImageError } from '../../src/data/image/index.ts';
import { renderCase, sampleCase } from '../../src/data/phantom/index.ts';
import { ERROR_CATALOGUE, isErrorCode } from '../../src/errors/public.ts';
import { REAL_CR_DICOM } from '../fixtures/paths.ts';

const SEED = 20_261_127;
const CHEXPERT_PNG = new URL(
  '../fixtures/chexpert/CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.png',
  import.meta.url,
);
// Small limits keep every case cheap; the checks are the same as the server's.
const LIMITS = { maxBytes: 2 * 1024 * 1024, maxPixels: 4_000_000, maxSide: 4096 };

const phantom = renderCase(sampleCase(3), { size: 96 });
const eightBit = Uint8Array.from(phantom.data, (v) => v >> (phantom.bitsStored - 8));
const rgba = new Uint8Array(phantom.width * phantom.height * 4);
for (let i = 0; i < eightBit.length; i++) rgba.set([eightBit[i], eightBit[i], eightBit[i], 255], i * 4);
const REAL_FILES: Record<string, Uint8Array> = {
  cr: readFileSync(REAL_CR_DICOM),
  chexpert: readFileSync(CHEXPERT_PNG),
  png16: encodePng16(phantom),
  dicom: encodeDicom(phantom, { seed: 3, view: 'PA' }),
  jpeg: jpeg.encode({ data: rgba, width: phantom.width, height: phantom.height }, 80).data,
};
const names = Object.keys(REAL_FILES);

/** Decodes, and fails the property on anything but success or a client-facing ImageError. */
function decodesOrImageError(bytes: Uint8Array): void {
  try {
    const image = decodeImage(bytes, LIMITS);
    assert.ok(image.width >= 1 && image.height >= 1);
  } catch (error) {
    assert.ok(error instanceof ImageError, `not an ImageError: ${String(error)}`);
    assert.ok(isErrorCode(error.code), `${error.code} is not in the API catalogue`);
    const status = ERROR_CATALOGUE[error.code].status;
    assert.ok(status >= 400 && status < 500, `${error.code} maps to ${status}`);
  }
}

function run(property: fc.IProperty<never> | fc.IAsyncProperty<never>, numRuns: number): number {
  fc.assert(property as fc.IProperty<unknown>, { seed: SEED, numRuns });
  return numRuns;
}

const realFile = fc.constantFrom(...names).map((name) => REAL_FILES[name]);

test('the seed files decode (so their mutations start from valid input)', () => {
  for (const name of names) assert.ok(decodeImage(REAL_FILES[name], LIMITS).width > 0, name);
});

test('random bytes, bare or behind each format signature', (t) => {
  const signature = fc.constantFrom(
    new Uint8Array(0),
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    Uint8Array.of(0xff, 0xd8, 0xff),
    Uint8Array.from([...new Uint8Array(128), ...Buffer.from('DICM')]),
  );
  const cases = run(
    fc.property(signature, fc.uint8Array({ maxLength: 2048 }), (head, body) =>
      decodesOrImageError(Uint8Array.from([...head, ...body])),
    ) as never,
    1000,
  );
  t.diagnostic(`${cases} cases`);
});

test('real files truncated anywhere', (t) => {
  const cases = run(
    fc.property(realFile, fc.double({ min: 0, max: 1, noNaN: true }), (bytes, at) =>
      decodesOrImageError(bytes.subarray(0, Math.floor(bytes.length * at))),
    ) as never,
    300,
  );
  t.diagnostic(`${cases} cases`);
});

test('real files with bit flips (mostly in the headers, where parsers branch)', (t) => {
  const flips = fc.array(
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 7 })),
    {
      minLength: 1,
      maxLength: 8,
    },
  );
  const cases = run(
    fc.property(realFile, flips, fc.boolean(), (bytes, where, headerOnly) => {
      const out = bytes.slice();
      const span = headerOnly ? Math.min(out.length, 1024) : out.length;
      for (const [at, bit] of where) out[Math.floor(at * (span - 1))] ^= 1 << bit;
      decodesOrImageError(out);
    }) as never,
    400,
  );
  t.diagnostic(`${cases} cases`);
});

test('spliced files: the head of one format with the tail of another', (t) => {
  const cases = run(
    fc.property(realFile, realFile, fc.double({ min: 0, max: 1, noNaN: true }), (a, b, at) => {
      const cut = Math.floor(Math.min(a.length, b.length) * at);
      decodesOrImageError(Uint8Array.from([...a.subarray(0, cut), ...b.subarray(cut, cut + 4096)]));
    }) as never,
    100,
  );
  t.diagnostic(`${cases} cases`);
});

/** PNG IHDR width/height rewritten with a valid CRC, so only the decoder's own checks stand. */
function pngWithSize(png: Uint8Array, width: number, height: number): Uint8Array {
  const out = png.slice();
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

/** The CR's Rows (0028,0010) and Columns (0028,0011) values rewritten in place (explicit little endian). */
function dicomWithSize(dicom: Uint8Array, rows: number, columns: number): Uint8Array {
  const out = dicom.slice();
  const view = new DataView(out.buffer);
  const find = (element: number): number => {
    for (let i = 132; i < out.length - 8; i++) {
      if (view.getUint16(i, true) === 0x0028 && view.getUint16(i + 2, true) === element) return i;
    }
    return -1;
  };
  for (const [element, value] of [
    [0x0010, rows],
    [0x0011, columns],
  ] as const) {
    const at = find(element);
    if (at < 0) continue;
    // The value starts 8 bytes after the tag either way: explicit VR "US" + 2-byte length, or a 4-byte length.
    view.setUint16(at + 8, value, true);
  }
  return out;
}

test('absurd declared dimensions (PNG and DICOM headers) are refused from the header', (t) => {
  const side = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constant(0xffffffff), fc.constant(0));
  const cases = run(
    fc.property(side, side, fc.boolean(), (w, h, asPng) => {
      const [width, height] = asPng ? [w, h] : [w & 0xffff, h & 0xffff];
      const bytes = asPng
        ? pngWithSize(REAL_FILES.png16, width, height)
        : dicomWithSize(REAL_FILES.dicom, width, height);
      decodesOrImageError(bytes);
      if (width === 0 || height === 0) {
        assert.throws(() => decodeImage(bytes, LIMITS), { name: 'ImageError', code: 'IMAGE_UNDECODABLE' });
      } else if (width * height > LIMITS.maxPixels || Math.max(width, height) > LIMITS.maxSide) {
        assert.throws(() => decodeImage(bytes, LIMITS), { name: 'ImageError', code: 'IMAGE_TOO_LARGE' });
      }
    }) as never,
    300,
  );
  t.diagnostic(`${cases} cases`);
});
