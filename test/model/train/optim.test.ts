import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeSafetensors,
  encodeSafetensors,
  fromFloat16Bits,
  SafetensorsError,
  toFloat16Bits,
} from '../../../src/model/safetensors.ts';
import { adamWStep, DEFAULT_ADAMW, initAdamW } from '../../../src/model/train/adamw.ts';
import { learningRate } from '../../../src/model/train/schedule.ts';

test('AdamW minimises a quadratic and its first step moves each weight by about lr', () => {
  const params = { w: new Float32Array([3, -2, 0.5]) };
  const state = initAdamW(params);
  const config = { ...DEFAULT_ADAMW, weightDecay: 0, maxGradNorm: 0 };
  const before = Float32Array.from(params.w);
  adamWStep(params, { w: Float32Array.from(params.w, (x) => 2 * x) }, state, 0.01, config);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(Math.abs(before[i] - params.w[i]) - 0.01) < 1e-6);
  for (let step = 0; step < 2000; step++)
    adamWStep(params, { w: params.w.map((x) => 2 * x) }, state, 0.01, config);
  for (const x of params.w) assert.ok(Math.abs(x) < 0.05, `not minimised: ${x}`);
});

test('gradient clipping caps the update direction and weight decay shrinks idle weights', () => {
  const params = { w: new Float32Array([1, 1]) };
  const state = initAdamW(params);
  const norm = adamWStep(params, { w: new Float32Array([300, 400]) }, state, 0.1, {
    ...DEFAULT_ADAMW,
    maxGradNorm: 1,
  });
  assert.equal(norm, 500);
  const decayOnly = { w: new Float32Array([2]) };
  const s2 = initAdamW(decayOnly);
  adamWStep(decayOnly, { w: new Float32Array([0]) }, s2, 0.1, { ...DEFAULT_ADAMW, weightDecay: 0.5 });
  assert.ok(Math.abs(decayOnly.w[0] - 2 * (1 - 0.05)) < 1e-6);
  const exempt = { w: new Float32Array([2]) };
  adamWStep(
    exempt,
    { w: new Float32Array([0]) },
    initAdamW(exempt),
    0.1,
    { ...DEFAULT_ADAMW, weightDecay: 0.5 },
    () => true,
  );
  assert.equal(exempt.w[0], 2);
});

test('learning rate warms up linearly then decays by cosine to its floor', () => {
  const s = { peak: 1e-3, warmupSteps: 10, totalSteps: 110, minRatio: 0.1 };
  assert.ok(Math.abs(learningRate(0, s) - 1e-4) < 1e-12);
  assert.ok(Math.abs(learningRate(9, s) - 1e-3) < 1e-12);
  assert.ok(Math.abs(learningRate(60, s) - 1e-3 * 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(110, s) - 1e-4) < 1e-12);
  assert.ok(learningRate(30, s) > learningRate(40, s));
});

test('safetensors round-trips F32, F16 and I64 tensors and rejects a corrupt header', () => {
  const values = new Float32Array([0, 1, -2.5, 65504, 1e-7, Math.PI]);
  const bytes = encodeSafetensors(
    {
      'a.weight': { dtype: 'F32', shape: [2, 3], data: values },
      'b.half': { dtype: 'F16', shape: [6], data: toFloat16Bits(values) },
      ids: { dtype: 'I64', shape: [2], data: new BigInt64Array([7n, -1n]) },
    },
    { format: 'pt' },
  );
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual(Array.from(tensors['a.weight'].data as Float32Array), Array.from(values));
  assert.deepEqual(tensors['a.weight'].shape, [2, 3]);
  const half = fromFloat16Bits(tensors['b.half'].data as Uint16Array);
  for (let i = 0; i < values.length; i++)
    assert.ok(
      Math.abs(half[i] - values[i]) <= Math.abs(values[i]) * 1e-3 + 6e-8,
      `${half[i]} vs ${values[i]}`,
    );
  assert.deepEqual(Array.from(tensors.ids.data as BigInt64Array), [7n, -1n]);
  const corrupt = Uint8Array.from(bytes);
  corrupt[10] = 0x7b;
  corrupt[11] = 0x7b;
  assert.throws(() => decodeSafetensors(corrupt), SafetensorsError);
});
