/**
 * Full-size films decoded for a small model input: DICOM through k×k block means of the lookup
 * table (k tiling the letterboxed square exactly), JPEG with DCT shrink-on-load (sharp). The model
 * input stays within a small tolerance of the full-size decode, the image block and the input gate
 * see the file's own size, and bad files still get their codes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { reductionFactor } from '../../../src/data/image/dicom.ts';
import {
  DEFAULT_INPUT_GATE,
  decodeImage,
  encodeDicom,
  ImageError,
  toModelInput,
} from '../../../src/data/image/index.ts';
import { decodeJpegReduced } from '../../../src/data/image/jpeg-reduced.ts';
import { Rng } from '../../../src/data/random.ts';
import { prepareImage } from '../../../src/engine/prepare.ts';
import { REAL_DIR } from '../../fixtures/gate-images.ts';
import { REAL_CR_DICOM } from '../../fixtures/paths.ts';

const SIZE = 64;
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

test('reductionFactor: k tiles width, height and letterbox offset; 1 under 16× the input or when none does', () => {
  assert.equal(reductionFactor(3000, 2500, 64), 5);
  assert.equal(reductionFactor(2000, 2128, 64), 4);
  assert.equal(reductionFactor(440, 440, 64), 1);
  assert.equal(reductionFactor(1023, 1023, 64), 1);
  assert.equal(reductionFactor(2021, 1763, 64), 1);
  assert.equal(reductionFactor(1760, 1760, 64), 2);
  assert.equal(reductionFactor(3000, 2500, undefined), 1);
  for (const [w, h] of [
    [3000, 2500],
    [2000, 2128],
    [1760, 1760],
  ]) {
    const k = reductionFactor(w, h, 64);
    assert.ok(Math.max(w, h) / k >= 8 * 64, 'at least 8× the input side stays');
  }
});

test('a 3000×2500 16-bit DICOM: reduced model input within 0.005 of the full decode; the file size is reported', async () => {
  const rng = new Rng(5);
  const w = 3000;
  const h = 2500;
  const data = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const lung = Math.exp(-(((x - 1500) / 900) ** 2) - ((y - 1250) / 800) ** 2);
      data[y * w + x] = Math.round(8000 + 40000 * lung + 3000 * rng.next());
    }
  }
  const dicom = encodeDicom({ width: w, height: h, bitsStored: 16, data }, { seed: 9, view: 'PA' });
  const full = toModelInput(decodeImage(dicom), SIZE);
  const reduced = decodeImage(dicom, undefined, { reduceFor: SIZE });
  assert.deepEqual([reduced.width, reduced.height], [600, 500]);
  assert.deepEqual([reduced.meta.sourceWidth, reduced.meta.sourceHeight], [3000, 2500]);
  const prepared = await prepareImage(dicom, SIZE, false, DEFAULT_INPUT_GATE);
  assert.ok(maxAbsDiff(prepared.input, full) < 0.005, `${maxAbsDiff(prepared.input, full)}`);
  assert.deepEqual([prepared.info.width, prepared.info.height], [3000, 2500]);
  assert.deepEqual(prepared.warnings, []);
});

test('the real 2000×2128 DX film (JPEG 2000): reduced by 4, within 0.03 of the full decode', async () => {
  const bytes = readFileSync(`${REAL_DIR}pydicom-issue966_DX_PA_unlabelled_mono1-12bit_j2k-lossless.dcm`);
  const full = toModelInput(decodeImage(bytes), SIZE);
  const prepared = await prepareImage(bytes, SIZE, false, DEFAULT_INPUT_GATE);
  // Burned-in markers make sharp edges; the block means blur them by a quarter of an output cell.
  assert.ok(maxAbsDiff(prepared.input, full) < 0.03, `${maxAbsDiff(prepared.input, full)}`);
  assert.deepEqual([prepared.info.width, prepared.info.height, prepared.info.bits_stored], [2000, 2128, 12]);
});

test('films under 16× the input decode at full size, bit for bit as before (the CR fixture)', async () => {
  const bytes = readFileSync(REAL_CR_DICOM);
  const prepared = await prepareImage(bytes, SIZE, false);
  assert.deepEqual(prepared.input, toModelInput(decodeImage(bytes), SIZE));
});

test('a real 1600² JPEG: shrink-on-load by 2 in sharp, within 0.08 (0.02 in intensity) of the full jpeg-js decode', async () => {
  const bytes = readFileSync(`${REAL_DIR}cohen-covid-cxr_p102-pneumocystis-pneumonia-1_PA_Pneumocystis.jpg`);
  const reduced = await decodeJpegReduced(bytes, SIZE);
  assert.deepEqual([reduced.width, reduced.height], [800, 800]);
  assert.deepEqual([reduced.meta.sourceWidth, reduced.meta.sourceHeight], [1600, 1600]);
  assert.equal(reduced.meta.photometric, 'GRAY');
  const full = toModelInput(decodeImage(bytes), SIZE);
  const mine = toModelInput(reduced, SIZE);
  const diff = maxAbsDiff(mine, full);
  let mean = 0;
  for (let i = 0; i < full.length; i++) mean += Math.abs(mine[i] - full[i]) / full.length;
  // libjpeg-turbo's scaled IDCT against jpeg-js's full one: ≤ 0.02 in intensity (5 grey levels) at worst.
  assert.ok(diff < 0.08 && mean < 0.01, `max ${diff}, mean ${mean}`);
  const prepared = await prepareImage(bytes, SIZE, false, DEFAULT_INPUT_GATE);
  assert.deepEqual([prepared.info.format, prepared.info.width, prepared.info.height], ['jpeg', 1600, 1600]);
  assert.deepEqual(prepared.warnings, []);
});

test('a truncated full-size JPEG is IMAGE_UNDECODABLE through the shrink-on-load path', async () => {
  const bytes = readFileSync(`${REAL_DIR}cohen-covid-cxr_p102-pneumocystis-pneumonia-1_PA_Pneumocystis.jpg`);
  await assert.rejects(
    () => prepareImage(bytes.subarray(0, Math.floor(bytes.length / 2)), SIZE, false),
    (e: unknown) => e instanceof ImageError && e.code === 'IMAGE_UNDECODABLE',
  );
});
