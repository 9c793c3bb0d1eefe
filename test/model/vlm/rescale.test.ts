import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ortTensor } from '../../../src/model/ort/session.ts';
import { TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import { VlmError } from '../../../src/model/vlm/errors.ts';
import { rescaleInput } from '../../../src/model/vlm/rescale.ts';
import { initWeights, type Weights } from '../../../src/model/vlm/weights.ts';
import { jitteredWeights, randomImages, servingSessions } from './helpers.ts';

async function encode(config: VlmConfig, weights: Weights, images: Float32Array, batch: number) {
  const sessions = await servingSessions(config, weights);
  const s = config.imageSize;
  const out = await sessions.encoder.run({ image: ortTensor('float32', images, [batch, 1, s, s]) }, [
    'image_tokens',
    'embedding',
  ]);
  await Promise.all(Object.values(sessions).map((x) => x.release()));
  return { tokens: out.image_tokens.data as Float32Array, embedding: out.embedding.data as Float32Array };
}

/** k×k box average of (B, S, S) images: what area resampling to the parent's input gives. */
function boxAverage(images: Float32Array, batch: number, size: number, k: number): Float32Array {
  const s = size / k;
  const out = new Float32Array(batch * s * s);
  for (let b = 0; b < batch; b++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        out[b * s * s + Math.floor(y / k) * s + Math.floor(x / k)] +=
          images[b * size * size + y * size + x] / (k * k);
  return out;
}

test('a model rescaled to a 2× input computes its parent’s function on the parent’s (box-averaged) input', async () => {
  const parent = jitteredWeights(initWeights(TEST_TINY, 2), 0.1, 2);
  const { config, weights } = rescaleInput(TEST_TINY, parent, 32);
  assert.equal(config.imageSize, 32);
  assert.equal(config.patchSize, 8);
  const large = randomImages(config, 2, 7);
  const want = await encode(TEST_TINY, parent, boxAverage(large, 2, 32, 2), 2);
  const got = await encode(config, weights, large, 2);
  const close = (a: Float32Array, b: Float32Array, tol: number, what: string) => {
    for (let i = 0; i < a.length; i++)
      assert.ok(Math.abs(a[i] - b[i]) < tol, `${what} ${i}: ${a[i]} vs ${b[i]}`);
  };
  close(got.tokens, want.tokens, 1e-4, 'image token value');
  close(got.embedding, want.embedding, 1e-5, 'embedding');
  // Detail inside a 2×2 block (zero mean, so the box average is unchanged) is not seen yet…
  const detail = Float32Array.from(
    large,
    (v, i) => v + (((i % 32) + Math.floor(i / 32)) % 2 === 0 ? 0.5 : -0.5),
  );
  assert.deepEqual(
    boxAverage(detail, 2, 32, 2).map((v) => Math.round(v * 1e4)),
    boxAverage(large, 2, 32, 2).map((v) => Math.round(v * 1e4)),
  );
  const seen = await encode(config, weights, detail, 2);
  close(seen.tokens, want.tokens, 1e-4, 'image token value with in-block detail');
  // …until a pixel stem is added and trained: that is what the larger input is for.
  assert.throws(
    () => rescaleInput(TEST_TINY, parent, 24),
    (e: unknown) => e instanceof VlmError && /whole multiple/.test(e.message),
  );
  assert.throws(
    () => rescaleInput({ ...TEST_TINY, stemSubPatch: 2, stemWidth: 2 }, parent, 32),
    /before it has a pixel stem/,
  );
});
