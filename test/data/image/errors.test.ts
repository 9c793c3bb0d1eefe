import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import jpeg from 'jpeg-js';
import {
  decodeImage,
  encodeDicom,
  encodePng8,
  encodePng16,
  IMAGE_ERROR_CODES,
  ImageError,
  type ImageErrorCode,
} from '../../../src/data/image/index.ts';
import { DEFAULT_DECODE_LIMITS } from '../../../src/data/image/limits.ts';
import { TS } from '../../../src/data/image/transfer-syntax.ts';
import { Rng } from '../../../src/data/random.ts';
import { REAL_CR_DICOM } from '../../fixtures/paths.ts';
import { craftDicom, testGray } from './craft.ts';

function assertCode(fn: () => unknown, code: ImageErrorCode, messagePart?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected ImageError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (messagePart) assert.match(e.message, messagePart);
    return true;
  });
}

function randomBytes(seed: number, length: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length }, () => rng.int(0, 255));
}

const gray = testGray(64, 64, 12);
const png16 = encodePng16(gray);
const dicom = encodeDicom(gray, { seed: 5, view: 'PA' });

/** Rewrites IHDR width/height and its CRC, so only the size check can reject the file. */
function withPngSize(png: Uint8Array, width: number, height: number): Uint8Array {
  const out = png.slice();
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

test('IMAGE_EMPTY for zero bytes', () => {
  assertCode(() => decodeImage(new Uint8Array(0)), 'IMAGE_EMPTY');
});

test('UNSUPPORTED_IMAGE_FORMAT for random bytes, text, and unsupported DICOM pixel layouts', () => {
  assertCode(() => decodeImage(randomBytes(1, 4096)), 'UNSUPPORTED_IMAGE_FORMAT', /PNG, JPEG or DICOM/);
  assertCode(
    () => decodeImage(new TextEncoder().encode('{"image": "not here"}')),
    'UNSUPPORTED_IMAGE_FORMAT',
  );
  const palette = craftDicom({
    rows: 2,
    columns: 2,
    samples: [0, 1, 2, 3],
    bitsAllocated: 8,
    photometric: 'PALETTE COLOR',
  });
  assertCode(() => decodeImage(palette), 'UNSUPPORTED_IMAGE_FORMAT', /PALETTE COLOR/);
});

test('IMAGE_TOO_LARGE from headers: PNG 100000×100000, DICOM 65535×65535, JPEG SOF, byte limit', () => {
  assertCode(() => decodeImage(withPngSize(png16, 100_000, 100_000)), 'IMAGE_TOO_LARGE', /100000×100000/);
  const huge = craftDicom({
    rows: 65535,
    columns: 65535,
    samples: [],
    withoutPixelData: true,
    extra: [{ tag: 0x7fe00010, vr: 'OW', value: new Uint16Array(16) }],
  });
  assertCode(() => decodeImage(huge), 'IMAGE_TOO_LARGE', /65535×65535/);
  const rgba = new Uint8Array(16 * 16 * 4).fill(128);
  const jpg = new Uint8Array(jpeg.encode({ width: 16, height: 16, data: rgba }, 90).data);
  const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
  new DataView(jpg.buffer).setUint16(sof + 5, 60000);
  new DataView(jpg.buffer).setUint16(sof + 7, 60000);
  assertCode(() => decodeImage(jpg), 'IMAGE_TOO_LARGE');
  assertCode(() => decodeImage(png16, { maxBytes: 100 }), 'IMAGE_TOO_LARGE', /bytes/);
  assertCode(() => decodeImage(png16, { maxSide: 32 }), 'IMAGE_TOO_LARGE');
});

test('IMAGE_TOO_LARGE for a deflated DICOM that inflates beyond the bound', () => {
  // 20 MB of zeros deflates to ~20 KB.
  const bomb = craftDicom({
    rows: 2,
    columns: 2,
    samples: [0, 0, 0, 0],
    transferSyntax: TS.deflatedExplicitLittle,
    extra: [{ tag: 0x00091010, vr: 'OB', value: new Uint8Array(20 * 1024 * 1024) }],
  });
  assert.ok(bomb.length < 100_000);
  assertCode(() => decodeImage(bomb, { maxInflatedBytes: 1024 * 1024 }), 'IMAGE_TOO_LARGE', /inflates/);
});

test('the default inflation bound is the documented 64 MiB, whatever the pixel limits (issue 13, defect 4)', () => {
  // A 2×2 image carrying 65 MiB of zeros deflates to ~65 KB: the old bound (maxPixels × 6 + 16 MiB,
  // 316 MB by default) let it inflate in full; the bound is now 64 MiB, cited in docs/security.md.
  assert.equal(DEFAULT_DECODE_LIMITS.maxInflatedBytes, 64 * 1024 * 1024);
  const bomb = craftDicom({
    rows: 2,
    columns: 2,
    samples: [0, 0, 0, 0],
    transferSyntax: TS.deflatedExplicitLittle,
    extra: [{ tag: 0x00091010, vr: 'OB', value: new Uint8Array(65 * 1024 * 1024) }],
  });
  assert.ok(bomb.length < 200_000);
  assertCode(() => decodeImage(bomb), 'IMAGE_TOO_LARGE', /inflates beyond 67108864 bytes/);
  // Just under the bound still decodes (the bound is on the data set, not a guess at the pixels).
  const fits = craftDicom({
    rows: 2,
    columns: 2,
    samples: [0, 0, 0, 0],
    transferSyntax: TS.deflatedExplicitLittle,
    extra: [{ tag: 0x00091010, vr: 'OB', value: new Uint8Array(63 * 1024 * 1024) }],
  });
  assert.equal(decodeImage(fits).width, 2);
});

test('IMAGE_UNDECODABLE: truncated PNG, truncated DICOM pixel data, corrupt bodies behind valid signatures', () => {
  assertCode(() => decodeImage(png16.subarray(0, png16.length - 200)), 'IMAGE_UNDECODABLE');
  assertCode(() => decodeImage(png16.subarray(0, 20)), 'IMAGE_UNDECODABLE');
  assertCode(() => decodeImage(dicom.subarray(0, dicom.length - 100)), 'IMAGE_UNDECODABLE', /truncated/);
  const png = png16.slice();
  png.set(randomBytes(2, 300), 60);
  assertCode(() => decodeImage(png), 'IMAGE_UNDECODABLE');
  const jpg = Uint8Array.of(0xff, 0xd8, 0xff, ...randomBytes(3, 500));
  assertCode(() => decodeImage(jpg), 'IMAGE_UNDECODABLE');
  const dcm = new Uint8Array(1000);
  dcm.set([0x44, 0x49, 0x43, 0x4d], 128);
  dcm.set(randomBytes(4, 868), 132);
  assertCode(() => decodeImage(dcm), 'IMAGE_UNDECODABLE');
});

test('DICOM_NOT_IMAGE for an object without pixel data (e.g. a structured report)', () => {
  const sr = craftDicom({
    rows: 1,
    columns: 1,
    samples: [],
    withoutPixelData: true,
    extra: [{ tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.88.11' }],
  });
  assertCode(() => decodeImage(sr), 'DICOM_NOT_IMAGE', /1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\.11/);
});

test('UNSUPPORTED_TRANSFER_SYNTAX names the syntax and lists what is supported', () => {
  const jxl = craftDicom({
    rows: 2,
    columns: 2,
    samples: [],
    transferSyntax: '1.2.840.10008.1.2.4.110',
    fragments: [randomBytes(5, 64)],
  });
  assertCode(
    () => decodeImage(jxl),
    'UNSUPPORTED_TRANSFER_SYNTAX',
    /1\.2\.840\.10008\.1\.2\.4\.110 \(JPEG XL Lossless\).*supported: .*JPEG Lossless \(\.57, \.70\), JPEG-LS \(\.80, \.81\), JPEG 2000 \(\.90, \.91\) and HTJ2K/,
  );
  const mpeg = craftDicom({
    rows: 2,
    columns: 2,
    samples: [],
    transferSyntax: '1.2.840.10008.1.2.4.100',
    fragments: [randomBytes(6, 64)],
  });
  assertCode(() => decodeImage(mpeg), 'UNSUPPORTED_TRANSFER_SYNTAX', /MPEG2/);
});

test('a supported compressed syntax with a corrupt codestream is IMAGE_UNDECODABLE, not a crash', () => {
  for (const transferSyntax of [
    '1.2.840.10008.1.2.4.57',
    '1.2.840.10008.1.2.4.70',
    '1.2.840.10008.1.2.4.80',
    '1.2.840.10008.1.2.4.81',
    '1.2.840.10008.1.2.4.90',
    '1.2.840.10008.1.2.4.91',
    '1.2.840.10008.1.2.4.201',
    '1.2.840.10008.1.2.4.203',
  ]) {
    const dicom = craftDicom({
      rows: 2,
      columns: 2,
      samples: [],
      transferSyntax,
      fragments: [randomBytes(7, 64)],
    });
    assertCode(() => decodeImage(dicom), 'IMAGE_UNDECODABLE', /./);
  }
});

test('INVALID_GRAY_IMAGE when an encoder gets an inconsistent GrayImage', () => {
  assertCode(
    () => encodePng8({ width: 2, height: 2, bitsStored: 8, data: new Uint16Array(3) }),
    'INVALID_GRAY_IMAGE',
  );
  assertCode(
    () => encodePng16({ width: 1, height: 1, bitsStored: 10, data: Uint16Array.of(1024) }),
    'INVALID_GRAY_IMAGE',
  );
});

test('every cut of every valid file and every random body throws only ImageError', () => {
  const real = new Uint8Array(readFileSync(REAL_CR_DICOM));
  const rle = craftDicom({
    rows: 64,
    columns: 64,
    samples: gray.data,
    bitsStored: 12,
    transferSyntax: TS.rle,
  });
  const deflated = craftDicom({
    rows: 64,
    columns: 64,
    samples: gray.data,
    transferSyntax: TS.deflatedExplicitLittle,
  });
  const jpg = craftDicom({
    rows: 8,
    columns: 8,
    samples: new Uint8Array(64),
    bitsAllocated: 8,
    transferSyntax: TS.jpegBaseline,
  });
  const files = [png16, encodePng8(gray), dicom, real, rle, deflated, jpg];
  const seen = new Set<string>();
  for (const file of files) {
    for (let k = 1; k < 40; k++) {
      const cut = Math.floor((file.length * k) / 40);
      try {
        decodeImage(file.subarray(0, cut));
      } catch (e) {
        assert.ok(e instanceof ImageError, `cut ${cut}/${file.length}: ${String(e)}`);
        seen.add(e.code);
      }
    }
  }
  const prefixes = [png16.subarray(0, 33), Uint8Array.of(0xff, 0xd8, 0xff), dicom.subarray(0, 300)];
  for (let seed = 0; seed < 60; seed++) {
    const body = randomBytes(100 + seed, 50 + seed * 20);
    const input = new Uint8Array([...prefixes[seed % 3], ...body]);
    try {
      decodeImage(input);
    } catch (e) {
      assert.ok(e instanceof ImageError, `seed ${seed}: ${String(e)}`);
      seen.add(e.code);
    }
  }
  assert.ok(seen.has('IMAGE_UNDECODABLE'));
  for (const code of seen) assert.ok(IMAGE_ERROR_CODES.includes(code as ImageErrorCode));
});

test('a deflated data set whose stream is corrupt is IMAGE_UNDECODABLE', () => {
  const good = craftDicom({
    rows: 2,
    columns: 2,
    samples: [1, 2, 3, 4],
    transferSyntax: TS.deflatedExplicitLittle,
  });
  const metaEnd = 132 + 12 + new DataView(good.buffer).getUint32(140, true);
  const bad = good.slice();
  // 0xff opens a deflate block of reserved type 3, which every inflater rejects.
  bad.set([0xff, ...randomBytes(7, bad.length - metaEnd - 1)], metaEnd);
  assertCode(() => decodeImage(bad), 'IMAGE_UNDECODABLE', /deflated/);
});
