import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeImage, grayToDecoded } from '../../../src/data/image/index.ts';
import { TS } from '../../../src/data/image/transfer-syntax.ts';
import { REAL_CR_DICOM } from '../../fixtures/paths.ts';
import { craftDicom, cs, ds, maxAbsDiff, testGray } from './craft.ts';

const FIXTURE = REAL_CR_DICOM;
/** SOURCES.md: the (7FE0,0010) element starts at byte 768; its 8-byte implicit-VR header precedes the value. */
const PIXEL_DATA_OFFSET = 768 + 8;

function regionMean(
  img: { width: number; pixels: Float32Array },
  x0: number,
  x1: number,
  y0: number,
  y1: number,
) {
  let sum = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += img.pixels[y * img.width + x];
  return sum / ((x1 - x0) * (y1 - y0));
}

test('real headless MONOCHROME1 CR decodes: 440×440, window 550/1024 then inverted', () => {
  const bytes = new Uint8Array(readFileSync(FIXTURE));
  const img = decodeImage(bytes);
  assert.equal(img.format, 'dicom');
  assert.equal(img.width, 440);
  assert.equal(img.height, 440);
  assert.deepEqual(img.meta, {
    modality: 'CR',
    photometric: 'MONOCHROME1',
    bitsStored: 10,
    transferSyntax: TS.implicitLittle,
    view: 'PA',
    viewPosition: 'PA',
    bodyPart: 'CHEST',
    frames: 1,
    frame: 1,
    chroma: 0,
  });
  // Against the raw stored values: display = 1 − linearWindow(raw; c = 550, w = 1024).
  const raw = new DataView(bytes.buffer, bytes.byteOffset + PIXEL_DATA_OFFSET);
  let rawBrightDecodedDark = 0;
  for (let i = 0; i < img.pixels.length; i += 97) {
    const x = raw.getUint16(i * 2, true) & 0x3ff;
    const windowed = Math.min(1, Math.max(0, (x - 549.5) / 1023 + 0.5));
    assert.ok(Math.abs(img.pixels[i] - (1 - windowed)) < 1e-6, `pixel ${i}`);
    if (x > 700 && img.pixels[i] < 0.5) rawBrightDecodedDark++;
  }
  assert.ok(rawBrightDecodedDark > 0);
  // Lungs (air) are dark, the mediastinum column (spine, heart) bright.
  const rightLung = regionMean(img, 80, 170, 150, 280);
  const leftLung = regionMean(img, 280, 360, 150, 280);
  const mediastinum = regionMean(img, 200, 240, 150, 300);
  assert.ok(rightLung < mediastinum - 0.15, `${rightLung} vs ${mediastinum}`);
  assert.ok(leftLung < mediastinum - 0.15, `${leftLung} vs ${mediastinum}`);
});

test('decoded meta carries no PHI from the real file', () => {
  const text = JSON.stringify(decodeImage(new Uint8Array(readFileSync(FIXTURE))).meta);
  for (const phi of ['Anonymized', '1993', 'FUJI', '1.2.840.10008.5.1.4.1.1.1'])
    assert.ok(!text.includes(phi), phi);
});

const gray12 = testGray(24, 16, 12);
const expected12 = grayToDecoded(gray12).pixels;
/** Full-range window: the linear VOI then gives v / 4095. */
const fullWindow = [ds(0x00281050, '2048'), ds(0x00281051, '4096')];

test('every uncompressed and lossless syntax decodes the same 12-bit image to v / 4095', () => {
  const syntaxes = [TS.implicitLittle, TS.explicitLittle, TS.explicitBig, TS.deflatedExplicitLittle, TS.rle];
  for (const transferSyntax of syntaxes) {
    const bytes = craftDicom({
      rows: 16,
      columns: 24,
      samples: gray12.data,
      bitsStored: 12,
      transferSyntax,
      extra: fullWindow,
    });
    const img = decodeImage(bytes);
    assert.equal(img.meta.transferSyntax, transferSyntax);
    assert.ok(maxAbsDiff(img.pixels, expected12) < 1e-6, transferSyntax);
  }
  const headless = craftDicom({
    rows: 16,
    columns: 24,
    samples: gray12.data,
    bitsStored: 12,
    layout: 'headless',
    extra: fullWindow,
  });
  assert.ok(maxAbsDiff(decodeImage(headless).pixels, expected12) < 1e-6, 'headless');
});

test('headless explicit VR and a meta group without preamble are detected too', () => {
  const common = { rows: 16, columns: 24, samples: gray12.data, bitsStored: 12, extra: fullWindow };
  const explicit = decodeImage(craftDicom({ ...common, layout: 'headless-explicit' }));
  assert.equal(explicit.meta.transferSyntax, TS.explicitLittle);
  assert.ok(maxAbsDiff(explicit.pixels, expected12) < 1e-6);
  const withoutPreamble = craftDicom({ ...common, transferSyntax: TS.explicitBig }).subarray(132);
  const decoded = decodeImage(withoutPreamble);
  assert.equal(decoded.meta.transferSyntax, TS.explicitBig);
  assert.ok(maxAbsDiff(decoded.pixels, expected12) < 1e-6);
});

test('RLE decodes 8-bit and 16-bit with long runs and literals exactly', () => {
  const samples = new Uint16Array(40 * 30);
  for (let i = 0; i < samples.length; i++) samples[i] = i < 500 ? 7 : (i * 7919) % 65536;
  const window = [ds(0x00281050, '32768'), ds(0x00281051, '65536')];
  const img = decodeImage(
    craftDicom({ rows: 30, columns: 40, samples, transferSyntax: TS.rle, extra: window }),
  );
  assert.ok(
    maxAbsDiff(
      img.pixels,
      Array.from(samples, (v) => v / 65535),
    ) < 1e-6,
  );
  const bytes8 = Uint8Array.from(samples, (v) => v & 0xff);
  const window8 = [ds(0x00281050, '128'), ds(0x00281051, '256')];
  const img8 = decodeImage(
    craftDicom({
      rows: 30,
      columns: 40,
      samples: bytes8,
      bitsAllocated: 8,
      transferSyntax: TS.rle,
      extra: window8,
    }),
  );
  assert.ok(
    maxAbsDiff(
      img8.pixels,
      Array.from(bytes8, (v) => v / 255),
    ) < 1e-6,
  );
});

test('JPEG baseline DICOM decodes through libjpeg-turbo within JPEG error', () => {
  const g = testGray(32, 32, 8);
  const window8 = [ds(0x00281050, '128'), ds(0x00281051, '256')];
  const img = decodeImage(
    craftDicom({
      rows: 32,
      columns: 32,
      samples: g.data,
      bitsAllocated: 8,
      transferSyntax: TS.jpegBaseline,
      extra: window8,
    }),
  );
  assert.equal(img.meta.transferSyntax, TS.jpegBaseline);
  assert.ok(maxAbsDiff(img.pixels, grayToDecoded(g).pixels) < 6 / 255);
});

test('MONOCHROME1 is inverted (once, with or without INVERSE), MONOCHROME2 only with Presentation LUT Shape INVERSE', () => {
  const samples = [0, 1023, 512, 100];
  const window = [ds(0x00281050, '512'), ds(0x00281051, '1024')];
  const mono2 = decodeImage(craftDicom({ rows: 2, columns: 2, samples, bitsStored: 10, extra: window }));
  const mono1 = decodeImage(
    craftDicom({ rows: 2, columns: 2, samples, bitsStored: 10, photometric: 'MONOCHROME1', extra: window }),
  );
  assert.deepEqual(Array.from(mono2.pixels), [0, 1, 512 / 1023, 100 / 1023].map(Math.fround));
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(mono1.pixels[i] - (1 - mono2.pixels[i])) < 1e-7);
  const inverse = [...window, cs(0x20500020, 'INVERSE')];
  const mono2Inverse = decodeImage(
    craftDicom({ rows: 2, columns: 2, samples, bitsStored: 10, extra: inverse }),
  );
  assert.deepEqual(mono2Inverse.pixels, mono1.pixels);
  // MONOCHROME1 with INVERSE (what the DX IOD requires) is inverted once, not back to a negative.
  const mono1Inverse = decodeImage(
    craftDicom({ rows: 2, columns: 2, samples, bitsStored: 10, photometric: 'MONOCHROME1', extra: inverse }),
  );
  assert.deepEqual(mono1Inverse.pixels, mono1.pixels);
});

test('signed pixels with rescale intercept and slope go through the window in modality units', () => {
  // Stored −1000..1000 (12-bit signed); modality = 2·stored − 24; window covers −1024..1024.
  const stored = [-1000, -12, 0, 1000];
  const extra = [ds(0x00281052, '-24'), ds(0x00281053, '2'), ds(0x00281050, '0'), ds(0x00281051, '2048')];
  const img = decodeImage(
    craftDicom({ rows: 2, columns: 2, samples: stored, bitsStored: 12, signed: true, extra }),
  );
  const linear = (x: number) => Math.min(1, Math.max(0, (x + 0.5) / 2047 + 0.5));
  assert.ok(
    maxAbsDiff(
      img.pixels,
      stored.map((s) => linear(2 * s - 24)),
    ) < 1e-6,
  );
});

test('bits above HighBit are masked off (overlay bits in the high nibble)', () => {
  const samples = [0xf000 | 100, 0xa000 | 4095];
  const img = decodeImage(craftDicom({ rows: 1, columns: 2, samples, bitsStored: 12, extra: fullWindow }));
  assert.ok(maxAbsDiff(img.pixels, [100 / 4095, 1]) < 1e-6);
});

test('VOI: first of several windows; SIGMOID; percentile stretch without a window', () => {
  const samples = Array.from({ length: 200 }, (_, i) => i * 10);
  const twoWindows = [ds(0x00281050, '1000\\50'), ds(0x00281051, '2001\\10')];
  const first = decodeImage(
    craftDicom({ rows: 10, columns: 20, samples, bitsStored: 12, extra: twoWindows }),
  );
  assert.ok(Math.abs(first.pixels[100] - ((1000 - 999.5) / 2000 + 0.5)) < 1e-6);
  const sigmoid = [ds(0x00281050, '1000'), ds(0x00281051, '400'), cs(0x00281056, 'SIGMOID')];
  const sig = decodeImage(craftDicom({ rows: 10, columns: 20, samples, bitsStored: 12, extra: sigmoid }));
  assert.ok(Math.abs(sig.pixels[100] - 0.5) < 1e-6);
  assert.ok(Math.abs(sig.pixels[120] - 1 / (1 + Math.exp(-2))) < 1e-6);
  const stretched = decodeImage(craftDicom({ rows: 10, columns: 20, samples, bitsStored: 12 }));
  assert.equal(stretched.pixels[0], 0);
  assert.equal(stretched.pixels[199], 1);
  assert.ok(Math.abs(stretched.pixels[100] - 0.5) < 0.01);
});

test('multi-frame: the first frame is decoded', () => {
  const frame0 = Array.from({ length: 6 }, (_, i) => i * 100);
  const frame1 = Array.from({ length: 6 }, () => 4000);
  const extra = [...fullWindow, { tag: 0x00280008, vr: 'IS' as const, value: '2' }];
  const native = decodeImage(
    craftDicom({ rows: 2, columns: 3, samples: [...frame0, ...frame1], bitsStored: 12, extra }),
  );
  assert.equal(native.meta.frames, 2);
  assert.ok(
    maxAbsDiff(
      native.pixels,
      frame0.map((v) => v / 4095),
    ) < 1e-6,
  );
});

test('RGB DICOM becomes luma', () => {
  const samples = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 10, 10];
  const img = decodeImage(
    craftDicom({ rows: 2, columns: 2, samples, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB' }),
  );
  assert.ok(maxAbsDiff(img.pixels, [0.299, 0.587, 0.114, 10 / 255]) < 1e-6);
});
