import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { splitTarget } from '../../../src/data/instructions/index.ts';
import { synthesize } from '../../../src/data/synth/run.ts';
import { readYesNo } from '../../../src/eval/index.ts';
import { type OpenedVersion, openVersion, readSplit } from '../../../src/inference/offline/index.ts';
import {
  type BenchmarkMining,
  balanceSelection,
  benchmarkSeeds,
  expandBySimilarity,
  indexPool,
  isHard,
  lookupFrom,
  MINING_TASKS,
  mineBenchmark,
  type ScoreProgress,
} from '../../../src/loop/mining/index.ts';
import { LanceStore } from '../../../src/store/lance-store.ts';

const RELEASE = join(import.meta.dirname, '../../../models/chexpo-tiny/v0001');
const LIMIT = 30;

let root: string;
let dataDir: string;
let model: OpenedVersion;
let mined: BenchmarkMining;
const progress: ScoreProgress[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chexpo-mining-'));
  dataDir = join(root, 'data');
  await synthesize({ cases: 12, seed: 2, outDir: dataDir, size: 64, formats: ['png16'], workers: 1 });
  model = await openVersion(RELEASE, { threads: 1 });
  mined = await mineBenchmark(model, dataDir, {
    limit: LIMIT,
    seed: 4,
    maxTokens: 40,
    batchSize: 8,
    onProgress: (p) => progress.push(p),
  });
});

after(async () => {
  await model?.close();
  await rm(root, { recursive: true, force: true });
});

test('mineBenchmark scores a seeded subset of whole train cases with the release model', async () => {
  const { samples } = await readSplit(dataDir, 'train');
  assert.equal(mined.scored.length, LIMIT);
  assert.equal(mined.splitSamples, samples.length);
  // Whole cases: every case but the last one taken has all its train samples.
  const caseIds = [...new Set(mined.scored.map((s) => s.sample.case_id))];
  for (const id of caseIds.slice(0, -1))
    assert.equal(
      mined.scored.filter((s) => s.sample.case_id === id).length,
      samples.filter((s) => s.case_id === id).length,
    );
  assert.ok(progress.some((p) => p.stage === 'predict' && p.done === LIMIT));
  assert.ok(progress.some((p) => p.stage === 'embed' && p.done === caseIds.length));
});

test('each scored sample carries its case embedding (one per case, unit length), score and confidence', () => {
  const byCase = new Map<string, Float32Array>();
  for (const s of mined.scored) {
    assert.equal(s.embedding.length, model.version.config.embeddingDim);
    assert.ok(Math.abs(Math.hypot(...s.embedding) - 1) < 1e-3);
    const first = byCase.get(s.sample.case_id) ?? s.embedding;
    byCase.set(s.sample.case_id, first);
    assert.equal(s.embedding, first, 'computed once per case');
    assert.equal(s.case.id, s.sample.case_id);
    assert.equal(s.confidence, s.prediction.answer_prob);
    assert.ok(s.score >= 0 && s.score <= 1);
    assert.equal(s.correct, s.score >= 1 - 1e-9);
    if (s.sample.task === 'closed')
      assert.equal(
        s.correct,
        readYesNo(splitTarget(s.prediction.text).answer) === s.sample.answer,
        s.prediction.text,
      );
  }
  const embeddings = [...byCase.values()];
  assert.notDeepEqual(embeddings[0], embeddings[1], 'different images embed differently');
});

test('hard = the scored samples that are wrong or below their task threshold', () => {
  for (const task of MINING_TASKS) assert.ok(mined.thresholds[task] > 0 && mined.thresholds[task] < 1);
  // 30 samples: too few for any curve, so every task keeps its default.
  for (const task of MINING_TASKS)
    assert.equal((mined.choices[task] as { source: string }).source, 'default');
  const expected = mined.scored.filter((s) => isHard(s, mined.thresholds)).map((s) => s.sample.id);
  assert.deepEqual(
    mined.hard.map((h) => h.scored.sample.id),
    expected,
  );
  assert.ok(mined.hard.length > 0, 'the tiny release model fails some questions');
  for (const h of mined.hard) assert.equal(h.reason, h.scored.correct ? 'low_confidence' : 'wrong');
  const tasks = Object.keys(mined.curve);
  assert.ok(tasks.length >= 3, tasks.join());
});

test('end to end: pool index → expansion from hard seeds → balanced selection', async () => {
  const dir = join(root, 'store');
  const store = await LanceStore.open({ uri: dir, embeddingDim: model.version.config.embeddingDim });
  try {
    await indexPool(store, mined.scored, { batchSize: 500 });
    const r = await expandBySimilarity(store, benchmarkSeeds(mined.hard), lookupFrom(mined.scored), {
      k: 4,
      maxDistance: 2,
      thresholds: mined.thresholds,
    });
    const o = r.overall;
    assert.equal(o.seeds, mined.hard.length);
    assert.equal(o.unknown, 0, 'every pool row was scored');
    // The pool is the mined subset, so every hard neighbour is a seed already: nothing new is kept.
    assert.equal(o.hard, o.alreadySelected);
    assert.equal(o.kept, 0);
    if (o.judged > 0) assert.equal(o.precision, o.hard / o.judged);
    const selected = balanceSelection([...mined.hard, ...r.selected], { budget: 10, capPerCell: 2 });
    assert.ok(selected.length <= 10 && selected.length > 0);
  } finally {
    await store.close();
  }
});
