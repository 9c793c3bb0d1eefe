import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/data/random.ts';
import {
  type GenerationRequest,
  Generator,
  greedyToken,
  nucleusSampler,
  type SamplingOptions,
} from '../../src/inference/generate.ts';
import { decodingFixture, randomImages } from '../model/vlm/helpers.ts';

const NEG = Number.NEGATIVE_INFINITY;

/** Token counts of `draws` samples of one logits row. */
function histogram(logits: readonly number[], o: SamplingOptions, draws: number, seed: number): number[] {
  const sample = nucleusSampler(new Rng(seed), o);
  const counts = logits.map(() => 0);
  for (let d = 0; d < draws; d++) {
    const row = Float32Array.from(logits);
    sample(row, []);
    counts[greedyToken(row).id]++;
  }
  return counts;
}

/** Pearson's χ² of observed counts against expected probabilities (cells with p > 0). */
function chiSquare(counts: readonly number[], p: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  return p.reduce((s, pi, i) => (pi > 0 ? s + (counts[i] - n * pi) ** 2 / (n * pi) : s), 0);
}

// Probabilities chosen so the nucleus is known by hand; the last token is banned.
const PROBS = [0.4, 0.3, 0.15, 0.1, 0.05];
const LOGITS = [...PROBS.map(Math.log), NEG];
// χ² critical values at p = 0.001.
const CHI2_001: Record<number, number> = { 2: 13.82, 3: 16.27, 4: 18.47 };

test('nucleusSampler at T = 1, top-p 0.8: draws follow the renormalised nucleus {0.4, 0.3, 0.15}', () => {
  const draws = 30000;
  const counts = histogram(LOGITS, { temperature: 1, topP: 0.8 }, draws, 11);
  // 0.4 + 0.3 = 0.7 < 0.8 ≤ 0.85: the three most likely tokens, nothing of the tail, never the banned one.
  assert.deepEqual(counts.slice(3), [0, 0, 0]);
  const expected = [0.4, 0.3, 0.15, 0, 0, 0].map((p) => p / 0.85);
  const chi2 = chiSquare(counts, expected);
  assert.ok(chi2 < CHI2_001[2], `χ² ${chi2.toFixed(2)} for counts ${counts}`);
  // And the test can fail: the same counts are far from the un-truncated distribution.
  assert.ok(chiSquare(counts, [...PROBS, 0]) > 100);
});

test('nucleusSampler at T = 0.5 with top-p 1 matches softmax(x/T) = p² renormalised over every allowed token', () => {
  const draws = 40000;
  const counts = histogram(LOGITS, { temperature: 0.5, topP: 1 }, draws, 12);
  const sq = PROBS.map((p) => p * p);
  const z = sq.reduce((a, b) => a + b, 0);
  const expected = [...sq.map((p) => p / z), 0];
  assert.equal(counts[5], 0, 'the banned token is never drawn');
  assert.ok(counts[4] > 0, 'top-p 1 keeps the tail');
  const chi2 = chiSquare(counts, expected);
  assert.ok(chi2 < CHI2_001[4], `χ² ${chi2.toFixed(2)} for counts ${counts}`);
});

test('nucleusSampler at T = 2, top-p 0.9: the nucleus is computed after the temperature', () => {
  // softmax(x/2) ∝ √p: [0.632, 0.548, 0.387, 0.316, 0.224] / 2.107 → 0.300, 0.260, 0.184, 0.150, 0.106.
  // Cumulative 0.300, 0.560, 0.744, 0.894 < 0.9 ≤ 1: at T = 2 all five are in the nucleus (at T = 1 only four).
  const sqrt = PROBS.map(Math.sqrt);
  const z = sqrt.reduce((a, b) => a + b, 0);
  const counts = histogram(LOGITS, { temperature: 2, topP: 0.9 }, 30000, 13);
  assert.ok(counts[4] > 0);
  const chi2 = chiSquare(counts, [...sqrt.map((p) => p / z), 0]);
  assert.ok(chi2 < CHI2_001[4], `χ² ${chi2.toFixed(2)} for counts ${counts}`);
  const atOne = histogram(LOGITS, { temperature: 1, topP: 0.9 }, 5000, 13);
  assert.equal(atOne[4], 0, 'at T = 1 the 0.05 token is past 0.9');
  assert.ok(atOne[3] > 0);
});

test('nucleusSampler with a tiny temperature is greedy; tiny top-p keeps only the argmax', () => {
  const logits = [0.3, 2.1, 1.9, -0.5, 2.0];
  assert.deepEqual(histogram(logits, { temperature: 1e-4, topP: 1 }, 2000, 14), [0, 2000, 0, 0, 0]);
  assert.deepEqual(histogram(logits, { temperature: 1, topP: 1e-6 }, 2000, 15), [0, 2000, 0, 0, 0]);
  // At T = 1 the same row is genuinely random.
  const free = histogram(logits, { temperature: 1, topP: 1 }, 2000, 16);
  assert.ok(free.filter((c) => c > 0).length === 5, `${free}`);
});

test('nucleusSampler: the same seed gives the same draws; bad options are refused', () => {
  assert.deepEqual(
    histogram(LOGITS, { temperature: 1, topP: 0.95 }, 200, 3),
    histogram(LOGITS, { temperature: 1, topP: 0.95 }, 200, 3),
  );
  assert.notDeepEqual(
    histogram(LOGITS, { temperature: 1, topP: 0.95 }, 200, 3),
    histogram(LOGITS, { temperature: 1, topP: 0.95 }, 200, 4),
  );
  for (const bad of [
    { temperature: 0, topP: 1 },
    { temperature: Number.NaN, topP: 1 },
    { temperature: 1, topP: 0 },
    { temperature: 1, topP: 1.5 },
  ])
    assert.throws(() => nucleusSampler(new Rng(1), bad), /temperature|topP/);
});

const { config, serving } = decodingFixture();
const s2 = config.imageSize ** 2;
const images = randomImages(config, 2, 5);
const image = (b: number) => images.slice(b * s2, (b + 1) * s2);
const prompts = [
  [1, 9, 7, 4],
  [1, 12, 4],
];

test('Generator: per-request samplers are seeded per row, batch-independent, and leave other rows greedy', async () => {
  const gen = new Generator(await serving, config, { eosId: -1 });
  const sampler = (seed: number, temperature = 1.5) =>
    nucleusSampler(Rng.derive(seed, 'row'), { temperature, topP: 1 });
  const steps = 8;
  const greedy = await gen.generate(
    prompts.map((p, b) => ({ image: image(b), promptIds: p, maxTokens: steps })),
  );
  const sampledRequests = (seed: number): GenerationRequest[] =>
    Array.from({ length: 6 }, (_, k) => ({
      image: image(k % 2),
      promptIds: prompts[k % 2],
      maxTokens: steps,
      processors: [sampler(seed + k)],
    }));
  const batch = await gen.generate([
    ...sampledRequests(100),
    { image: image(0), promptIds: prompts[0], maxTokens: steps },
  ]);
  // The request without processors is still the greedy answer.
  assert.deepEqual(batch[6].ids, greedy[0].ids);
  // Samples differ from greedy (T = 1.5 over a random model's near-flat distribution) …
  assert.ok(batch.slice(0, 6).some((g, k) => g.ids.join() !== greedy[k % 2].ids.join()));
  // … and each row's draw depends on its own seed only, not on the batch.
  const alone = await gen.generate([sampledRequests(100)[3]]);
  assert.deepEqual(alone[0].ids, batch[3].ids);
  const again = await gen.generate(sampledRequests(100));
  assert.deepEqual(
    again.map((g) => g.ids),
    batch.slice(0, 6).map((g) => g.ids),
  );
  // A tiny temperature reproduces the greedy answer through the whole KV-cached loop.
  const cold = await gen.generate(
    prompts.map((p, b) => ({
      image: image(b),
      promptIds: p,
      maxTokens: steps,
      processors: [sampler(b, 1e-5)],
    })),
  );
  assert.deepEqual(
    cold.map((g) => g.ids),
    greedy.map((g) => g.ids),
  );
});
