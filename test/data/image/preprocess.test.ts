import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeImage,
  encodeDicom,
  encodePng16,
  grayToDecoded,
  MODEL_INPUT_MEAN,
  MODEL_INPUT_STD,
  toModelInput,
} from '../../../src/data/image/index.ts';
import { Rng } from '../../../src/data/random.ts';
import { maxAbsDiff, testGray } from './craft.ts';

const toIntensity = (x: number) => x * MODEL_INPUT_STD + MODEL_INPUT_MEAN;

function image(width: number, height: number, f: (x: number, y: number) => number) {
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = f(x, y);
  return { width, height, pixels };
}

test('normalisation constants are fixed: (intensity − 0.5) / 0.25', () => {
  assert.equal(MODEL_INPUT_MEAN, 0.5);
  assert.equal(MODEL_INPUT_STD, 0.25);
  for (const [value, expected] of [
    [0.5, 0],
    [1, 2],
    [0, -2],
    [0.75, 1],
  ]) {
    const out = toModelInput(
      image(8, 8, () => value),
      4,
    );
    assert.equal(out.length, 16);
    assert.ok(
      out.every((v) => v === expected),
      `${value}`,
    );
  }
  // A dark image stays dark: no per-image standardisation.
  const dark = toModelInput(
    image(16, 16, (x) => 0.1 + 0.01 * x),
    8,
  );
  assert.ok(dark.every((v) => v < -1));
});

test('training (in-memory phantom) and serving (decoded PNG16 / DICOM) give identical model inputs', () => {
  const phantom = testGray(96, 80, 12, 3);
  const training = toModelInput(grayToDecoded(phantom), 64);
  const fromPng = toModelInput(decodeImage(encodePng16(phantom)), 64);
  const fromDicom = toModelInput(decodeImage(encodeDicom(phantom, { seed: 3, view: 'PA' })), 64);
  assert.deepEqual(fromPng, training);
  assert.deepEqual(fromDicom, training);
});

test('letterbox: a wide image is centred with black bars above and below', () => {
  const out = toModelInput(
    image(100, 50, () => 1),
    50,
  );
  const row = (y: number) => out.subarray(y * 50, (y + 1) * 50);
  assert.ok(
    row(0).every((v) => v === -2),
    'top bar is black',
  );
  assert.ok(
    row(49).every((v) => v === -2),
    'bottom bar is black',
  );
  assert.ok(
    row(25).every((v) => Math.abs(v - 2) < 1e-6),
    'image rows keep their value',
  );
  // The image spans padded rows 25..74 of 100: output rows 12 and 37 are half image, half bar.
  const column = Array.from({ length: 50 }, (_, y) => toIntensity(row(y)[25]));
  assert.deepEqual(
    column.map((v) => Math.round(v * 2) / 2),
    [...Array(12).fill(0), 0.5, ...Array(24).fill(1), 0.5, ...Array(12).fill(0)],
  );
});

test('downscaling averages areas: the mean is preserved at a non-integer scale and stripes become grey', () => {
  const rng = new Rng(11);
  const noisy = image(90, 90, () => rng.next());
  const out = toModelInput(noisy, 40);
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(Array.from(out, toIntensity)) - mean(noisy.pixels)) < 1e-5);
  const stripes = toModelInput(
    image(90, 90, (x) => x % 2),
    40,
  );
  // Each output column covers 2.25 source columns: the average lies within [1/2.25 · 1, 1.25/2.25].
  assert.ok(Array.from(stripes, toIntensity).every((v) => v > 0.44 - 1e-6 && v < 0.56 + 1e-6));
});

test('upscaling is bilinear with half-pixel centres and edge clamping', () => {
  const out = toModelInput(
    image(2, 2, (x) => x),
    4,
  );
  const firstRow = Array.from(out.subarray(0, 4), toIntensity);
  assert.ok(maxAbsDiff(firstRow, [0, 0.25, 0.75, 1]) < 1e-6);
  assert.ok(maxAbsDiff(Array.from(out.subarray(12, 16), toIntensity), firstRow) < 1e-6);
});

test('same size is the identity up to normalisation', () => {
  const src = image(7, 7, (x, y) => (x * 7 + y) / 49);
  assert.ok(maxAbsDiff(Array.from(toModelInput(src, 7), toIntensity), src.pixels) < 1e-6);
});

test('invalid sizes are rejected', () => {
  assert.throws(
    () =>
      toModelInput(
        image(4, 4, () => 0),
        0,
      ),
    RangeError,
  );
  assert.throws(() => toModelInput({ width: 4, height: 4, pixels: new Float32Array(3) }, 2), RangeError);
});
