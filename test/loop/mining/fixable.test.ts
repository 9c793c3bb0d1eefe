import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { FINDING_KEYS, type FindingKey } from '../../../src/data/types.ts';
import { visibilityTable, visibleFindings } from '../../../src/eval/visibility.ts';
import {
  derangement,
  type OpenedVersion,
  openVersion,
  predictSamples,
  readSplit,
  type SplitData,
} from '../../../src/inference/offline/index.ts';
import {
  comparableAnswer,
  fixableCounts,
  keepFixable,
  markFixable,
  scoreSamples,
} from '../../../src/loop/mining/index.ts';
import type { ScoredSample } from '../../../src/loop/types.ts';
import { type TinySetup, tinyModelAndData } from './tiny-model.ts';

let setup: TinySetup;
let model: OpenedVersion;
let train: SplitData;
let scored: ScoredSample[];
/** The greedy answer of every scored sample on another patient's image (the derangement markFixable uses). */
let swapped: Map<string, string>;
const SEED = 4;
const ALL = new Set<FindingKey>(FINDING_KEYS);
const opts = { visibleFindings: ALL, seed: SEED, batchSize: 8, maxTokens: 8 };

before(async () => {
  setup = await tinyModelAndData({ cases: 10, seed: 3, maxSeqLen: 64 });
  model = await openVersion(setup.versionDir, { threads: 1 });
  train = await readSplit(setup.dataDir, 'train');
  scored = await scoreSamples(model, setup.dataDir, train.cases, train.samples, {
    batchSize: 8,
    maxTokens: 8,
  });
  const imageFrom = derangement(
    train.cases.map((c) => c.id),
    SEED,
  );
  const predictions = await predictSamples(model, setup.dataDir, train.cases, train.samples, {
    batchSize: 8,
    maxTokens: 8,
    imageFrom,
  });
  swapped = new Map(predictions.map((p) => [p.sample_id, p.text]));
});

after(async () => {
  await model?.close();
  await rm(setup.root, { recursive: true, force: true });
});

test('visibleFindings: the findings the visibility table calls visible at that input size', () => {
  const o = { renderSize: 64, cases: 3 };
  for (const size of [16, 64]) {
    const want = visibilityTable({ ...o, modelSize: size }).filter((r) => r.median_ratio >= 1);
    assert.deepEqual([...visibleFindings(size, o)].sort(), want.map((r) => r.finding).sort());
  }
  // A stricter threshold can only hide more.
  const strict = visibleFindings(64, { ...o, threshold: 3 });
  for (const f of strict) assert.ok(visibleFindings(64, o).has(f));
});

test('markFixable: prior_driven exactly when the answer is the same on another patient’s image, else yes', async () => {
  const out = await markFixable(model, setup.dataDir, train.cases, scored, opts);
  assert.equal(out.length, scored.length);
  const counts = fixableCounts(out);
  assert.equal(counts.invisible, 0, 'every finding visible');
  out.forEach((s, i) => {
    const { fixable, ...rest } = s;
    assert.deepEqual(rest, scored[i]);
    const same = swapped.get(s.sample.id)!.trim() === s.prediction.text.trim();
    assert.equal(fixable, same ? 'prior_driven' : 'yes', s.sample.id);
  });
  // The random model's answers move with the image for some samples and not for others.
  assert.ok(counts.yes > 0 && counts.prior_driven > 0, JSON.stringify(counts));
  // Labels do not depend on which samples are checked together (the derangement covers every case).
  const some = await markFixable(model, setup.dataDir, train.cases, [scored[7], scored[2]], opts);
  assert.deepEqual(
    some.map((s) => s.fixable),
    [out[7].fixable, out[2].fixable],
  );
});

test('markFixable compares the answer part only, case-insensitively; the image really is swapped', async () => {
  // Samples whose answer changes on the swapped image: pretend the model had answered that on its own image.
  const moved = scored.filter(
    (s) => s.sample.task !== 'report' && swapped.get(s.sample.id)!.trim() !== s.prediction.text.trim(),
  );
  assert.ok(moved.length > 3, `${moved.length}`);
  const as = (s: ScoredSample, text: string): ScoredSample => ({
    ...s,
    prediction: { ...s.prediction, text },
  });
  const faked = moved.flatMap((s) => {
    const other = swapped.get(s.sample.id)!;
    return [as(s, other), as(s, `${other.toUpperCase()}. A rationale that differs`), as(s, 'zzz qqq')];
  });
  const out = await markFixable(model, setup.dataDir, train.cases, faked, opts);
  for (let i = 0; i < out.length; i += 3) {
    assert.equal(out[i].fixable, 'prior_driven', out[i].sample.id);
    assert.equal(out[i + 1].fixable, 'prior_driven', 'the rationale and case are not compared');
    assert.equal(out[i + 2].fixable, 'yes');
  }
  assert.equal(comparableAnswer('closed', 'Yes. The heart is large'), 'yes');
  assert.equal(comparableAnswer('report', 'Small  effusion. No  edema.'), 'small effusion. no edema.');
});

test('markFixable: a finding outside the visible set is invisible; samples without a finding never are', async () => {
  const withFinding = scored.filter((s) => s.sample.finding !== undefined);
  const hidden = withFinding[0].sample.finding!;
  const visible = new Set(FINDING_KEYS.filter((f) => f !== hidden));
  const out = await markFixable(model, setup.dataDir, train.cases, scored, {
    ...opts,
    visibleFindings: visible,
  });
  const all = await markFixable(model, setup.dataDir, train.cases, scored, opts);
  out.forEach((s, i) => {
    if (s.sample.finding === hidden) assert.equal(s.fixable, 'invisible');
    else assert.equal(s.fixable, all[i].fixable, s.sample.id);
  });
  const none = await markFixable(model, setup.dataDir, train.cases, scored, {
    ...opts,
    visibleFindings: new Set(),
  });
  assert.ok(scored.some((s) => s.sample.finding === undefined));
  none.forEach((s, i) => {
    assert.equal(s.fixable === 'invisible', s.sample.finding !== undefined, s.sample.id);
    if (s.sample.finding === undefined) assert.equal(s.fixable, all[i].fixable);
  });
  assert.equal(fixableCounts(none).invisible, withFinding.length);
});

test('keepFixable: unmarked and fixable samples keep every kind, prior-driven ones image counterfactuals only, invisible ones none', () => {
  const sel = (fixable?: ScoredSample['fixable']) => ({
    scored: { ...scored[0], ...(fixable ? { fixable } : {}) },
    reason: 'wrong' as const,
  });
  for (const f of [undefined, 'yes'] as const) {
    assert.ok(keepFixable(sel(f), 'negation'));
    assert.ok(keepFixable(sel(f), 'on_policy'));
  }
  assert.ok(!keepFixable(sel('prior_driven'), 'negation'));
  assert.ok(!keepFixable(sel('prior_driven'), 'on_policy'));
  assert.ok(keepFixable(sel('prior_driven'), 'image_counterfactual'));
  for (const kind of ['negation', 'on_policy', 'image_counterfactual'] as const)
    assert.ok(!keepFixable(sel('invisible'), kind), kind);
});
