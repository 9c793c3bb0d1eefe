import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
  type OpenedVersion,
  openVersion,
  readSplit,
  type SplitData,
} from '../../../src/inference/offline/index.ts';
import { sampleAnswers, scoreSamples } from '../../../src/loop/mining/index.ts';
import type { ScoredSample } from '../../../src/loop/types.ts';
import { type TinySetup, tinyModelAndData } from './tiny-model.ts';

let setup: TinySetup;
let model: OpenedVersion;
let train: SplitData;
let scored: ScoredSample[];
const BASE = { k: 3, temperature: 1, topP: 1, seed: 5, batchSize: 8, maxTokens: 8 };

before(async () => {
  setup = await tinyModelAndData({ cases: 10, seed: 3, maxSeqLen: 64 });
  model = await openVersion(setup.versionDir, { threads: 1 });
  train = await readSplit(setup.dataDir, 'train');
  scored = await scoreSamples(model, setup.dataDir, train.cases, train.samples.slice(0, 24), {
    batchSize: 8,
    maxTokens: 8,
  });
});

after(async () => {
  await model?.close();
  await rm(setup.root, { recursive: true, force: true });
});

test('sampleAnswers: k answers per sample, the rest of each scored sample untouched, seeded', async () => {
  const out = await sampleAnswers(model, setup.dataDir, train.cases, scored, BASE);
  assert.equal(out.length, scored.length);
  out.forEach((s, i) => {
    assert.equal(s.samples?.length, 3);
    const { samples: _, ...rest } = s;
    assert.deepEqual(rest, scored[i]);
  });
  // T = 1 over a random model: the samples are not all the greedy answer, nor all alike.
  const texts = out.flatMap((s) => s.samples!);
  assert.ok(
    out.some((s) => s.samples!.some((t) => t !== s.prediction.text)),
    'some sample differs from greedy',
  );
  assert.ok(new Set(texts).size > out.length, `${new Set(texts).size} distinct of ${texts.length}`);
  const again = await sampleAnswers(model, setup.dataDir, train.cases, scored, BASE);
  assert.deepEqual(
    again.map((s) => s.samples),
    out.map((s) => s.samples),
  );
  const other = await sampleAnswers(model, setup.dataDir, train.cases, scored, { ...BASE, seed: 6 });
  assert.notDeepEqual(
    other.map((s) => s.samples),
    out.map((s) => s.samples),
  );
});

test('sampleAnswers: a sample’s answers do not depend on which samples are sampled with it or the batch size', async () => {
  const all = await sampleAnswers(model, setup.dataDir, train.cases, scored, BASE);
  const picked = [scored[20], scored[3], scored[11]];
  const some = await sampleAnswers(model, setup.dataDir, train.cases, picked, { ...BASE, batchSize: 2 });
  assert.deepEqual(
    some.map((s) => s.samples),
    [all[20], all[3], all[11]].map((s) => s.samples),
  );
});

test('sampleAnswers at a tiny temperature reproduces the greedy answer: same prompt, same image', async () => {
  const cold = await sampleAnswers(model, setup.dataDir, train.cases, scored, {
    ...BASE,
    k: 2,
    temperature: 1e-5,
  });
  for (const s of cold) assert.deepEqual(s.samples, [s.prediction.text, s.prediction.text], s.sample.id);
});

test('sampleAnswers: no samples for a prompt that did not fit; bad k is refused', async () => {
  const tooLong: ScoredSample = {
    ...scored[0],
    prediction: { ...scored[0].prediction, text: '', prompt_too_long: true },
  };
  const [out] = await sampleAnswers(model, setup.dataDir, train.cases, [tooLong], BASE);
  assert.deepEqual(out.samples, []);
  await assert.rejects(
    sampleAnswers(model, setup.dataDir, train.cases, scored, { ...BASE, k: 0 }),
    /k must be a whole number/,
  );
});
