import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import { toBytes } from '../../../src/model/graph/index.ts';
import { type Feeds, ortTensor } from '../../../src/model/ort/session.ts';
import { buildScoreGraph, buildSftGraph } from '../../../src/model/vlm/training.ts';
import { countParameters } from '../../../src/model/vlm/weights.ts';
import { encode, greedyCached, greedyRecompute, prefillFeeds } from './generate.ts';
import {
  decodingFixture,
  randomImages,
  randomSequence,
  sequenceFeeds,
  trainingSession,
  weightFeeds,
} from './helpers.ts';

const { config, weights, serving } = decodingFixture();

/** log-softmax of one row of `v` logits. */
function logSoftmaxAt(logits: Float32Array, offset: number, v: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < v; i++) max = Math.max(max, logits[offset + i]);
  let sum = 0;
  for (let i = 0; i < v; i++) sum += Math.exp(logits[offset + i] - max);
  return logits[offset + target] - max - Math.log(sum);
}

test('parity: encoder + prefill, and prefill + one-token decode steps, give the training graph’s log-probs', async () => {
  const s = await serving;
  const rng = Rng.derive(2, 'parity');
  const B = 2;
  const T = 9;
  const seqs = [randomSequence(config, T, 4, rng), randomSequence(config, T, 4, rng)];
  const images = randomImages(config, B, 3);
  const sft = await trainingSession(toBytes(buildSftGraph(config), { parametersAs: 'inputs' }));
  const train = await sft.run({ ...weightFeeds(config, weights), ...sequenceFeeds(config, images, seqs) });
  const want = train.token_logprobs.data as Float32Array;
  await sft.release();
  const score = await trainingSession(toBytes(buildScoreGraph(config), { parametersAs: 'inputs' }));
  const scored = await score.run({ ...weightFeeds(config, weights), ...sequenceFeeds(config, images, seqs) });
  // Not bit-equal: ORT fuses layer norm and GELU only where backward nodes do not read the intermediates.
  const trained = train.sequence_logprob.data as Float32Array;
  (scored.sequence_logprob.data as Float32Array).forEach((v, b) => {
    assert.ok(Math.abs(v - trained[b]) < 1e-4, `score graph ${v} vs training graph ${trained[b]}`);
  });
  assert.equal(Object.keys(scored).filter((k) => k.startsWith('grad.')).length, 0);
  await score.release();

  const v = config.vocabSize;
  const imageTokens = await encode(s, config, images, B);
  const full = await s.prefill.run(
    prefillFeeds(
      config,
      imageTokens,
      seqs.map((q) => q.inputIds),
    ),
  );
  const logits = full.logits.data as Float32Array;
  let maxErr = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const got = logSoftmaxAt(logits, (b * T + t) * v, v, seqs[b].targetIds[t]);
      maxErr = Math.max(maxErr, Math.abs(got - want[b * T + t]));
    }
  assert.ok(maxErr < 1e-4, `prefill vs training: max |Δ log p| = ${maxErr}`);

  // Teacher-forced incremental decoding: prefill 3 tokens, then one token per step through the cache.
  const head = 3;
  let out = await s.prefill.run(
    prefillFeeds(
      config,
      imageTokens,
      seqs.map((q) => q.inputIds.slice(0, head)),
    ),
  );
  maxErr = 0;
  for (let t = head - 1; t < T; t++) {
    const rows = out.logits.dims[1];
    for (let b = 0; b < B; b++) {
      const got = logSoftmaxAt(
        out.logits.data as Float32Array,
        (b * rows + rows - 1) * v,
        v,
        seqs[b].targetIds[t],
      );
      maxErr = Math.max(maxErr, Math.abs(got - want[b * T + t]));
    }
    if (t === T - 1) break;
    const past: Feeds = {};
    for (let i = 0; i < config.decoderLayers; i++) {
      past[`past.${i}.key`] = out[`present.${i}.key`];
      past[`past.${i}.value`] = out[`present.${i}.value`];
    }
    const total = config.imageTokens + t + 2;
    out = await s.step.run({
      ...past,
      input_ids: ortTensor('int64', BigInt64Array.from(seqs.map((q) => BigInt(q.inputIds[t + 1]))), [B, 1]),
      position_ids: ortTensor('int64', BigInt64Array.from([BigInt(t + 1), BigInt(t + 1)]), [B, 1]),
      attention_mask: ortTensor('int64', new BigInt64Array(B * total).fill(1n), [B, total]),
    });
  }
  assert.ok(maxErr < 1e-4, `KV-cache decoding vs training: max |Δ log p| = ${maxErr}`);
});

const PROMPTS = [
  [1, 7, 9, 4],
  [1, 12, 4],
  [1, 8, 15, 20, 6, 4],
];
const STEPS = 6;

test('greedy decoding with the KV cache gives the tokens of full recomputation', async () => {
  const s = await serving;
  for (let r = 0; r < PROMPTS.length; r++) {
    const image = randomImages(config, 1, 40 + r);
    const cached = await greedyCached(s, config, image, [PROMPTS[r]], STEPS);
    const recomputed = await greedyRecompute(s, config, image, PROMPTS[r], STEPS);
    assert.deepEqual(cached[0], recomputed, `prompt ${r}`);
  }
});

test('a left-padded batch of different prompt lengths decodes the same tokens as each prompt alone', async () => {
  const s = await serving;
  const images = new Float32Array(PROMPTS.length * config.imageSize ** 2);
  const alone: number[][] = [];
  for (let r = 0; r < PROMPTS.length; r++) {
    const image = randomImages(config, 1, 40 + r);
    images.set(image, r * image.length);
    alone.push((await greedyCached(s, config, image, [PROMPTS[r]], STEPS))[0]);
  }
  const batched = await greedyCached(s, config, images, PROMPTS, STEPS);
  assert.deepEqual(batched, alone);
  // Not a degenerate model: the rows do not all decode the same constant token.
  assert.ok(new Set(batched.flat()).size > 2, `decoded ${JSON.stringify(batched)}`);
});

test('golden: fixed seed → fixed parameter count and greedy ids', async () => {
  assert.equal(countParameters(config), 6224);
  const s = await serving;
  const images = new Float32Array(PROMPTS.length * config.imageSize ** 2);
  for (let r = 0; r < PROMPTS.length; r++)
    images.set(randomImages(config, 1, 40 + r), r * config.imageSize ** 2);
  const ids = await greedyCached(s, config, images, PROMPTS, STEPS);
  assert.deepEqual(ids, [
    [20, 20, 20, 2, 16, 20],
    [2, 2, 2, 20, 2, 16],
    [15, 2, 2, 2, 2, 2],
  ]);
});
