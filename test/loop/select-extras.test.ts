/**
 * mineAndSelect's extras on a tiny data set and a random model (no store: expansion and live off):
 * off by default; when on, they enrich the final selection only and count what they found.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { visibleFindings } from '../../src/eval/visibility.ts';
import {
  type OpenedVersion,
  openVersion,
  readSplit,
  type SplitData,
} from '../../src/inference/offline/index.ts';
import { resolveLoopConfig } from '../../src/loop/config.ts';
import { draftsFor } from '../../src/loop/pairs/index.ts';
import { usableWrongAnswer } from '../../src/loop/pairs/kinds/on-policy.ts';
import { mineAndSelect, type SelectExtras, type Selection } from '../../src/loop/round.ts';
import type { ChexpoStore } from '../../src/store/contract.ts';
import { type TinySetup, tinyModelAndData } from './mining/tiny-model.ts';

let setup: TinySetup;
let model: OpenedVersion;
let train: SplitData;

before(async () => {
  setup = await tinyModelAndData({ cases: 10, seed: 3, maxSeqLen: 48 });
  model = await openVersion(setup.versionDir, { threads: 1 });
  train = await readSplit(setup.dataDir, 'train');
});

after(async () => {
  await model?.close();
  await rm(setup.root, { recursive: true, force: true });
});

async function select(name: string, extras?: SelectExtras) {
  const runDir = join(setup.root, name);
  await mkdir(runDir, { recursive: true });
  const lines: string[] = [];
  const stages: string[] = [];
  const config = resolveLoopConfig({
    seed: 2,
    expansion: { enabled: false },
    live: { enabled: false },
    balance: { budgetFraction: 1 },
  });
  const selection: Selection = await mineAndSelect({
    model,
    baseVersion: 'v0001',
    // Neither expansion nor live mining is on, so nothing reads the store.
    store: {} as ChexpoStore,
    dataDir: setup.dataDir,
    train,
    scoredSamples: train.samples,
    config,
    runDir,
    stage: (stage, fn) => {
      stages.push(stage);
      return fn();
    },
    log: (line) => lines.push(line),
    ...(extras ? { extras } : {}),
  });
  return { selection, lines, stages };
}

test('mineAndSelect without extras: no sampling, no marking, extras null', async () => {
  const { selection, stages } = await select('plain');
  assert.equal(selection.extras, null);
  assert.ok(selection.selected.length > 5, `${selection.selected.length} selected`);
  for (const s of selection.selected) {
    assert.equal(s.scored.samples, undefined);
    assert.equal(s.scored.fixable, undefined);
  }
  assert.deepEqual(stages, ['mining']);
});

test('mineAndSelect with extras: the same selection, sampled answers and fixable marks on it, counted', async () => {
  const plain = (await select('plain-2')).selection;
  const { selection, lines, stages } = await select('extras', {
    onPolicySamples: { k: 2, temperature: 1, topP: 0.95 },
    fixable: true,
  });
  assert.deepEqual(stages, ['mining', 'sampling', 'fixable']);
  // Applied after balancing: the same samples in the same order, only their scored records enriched.
  assert.deepEqual(
    selection.selected.map((s) => [s.scored.sample.id, s.reason]),
    plain.selected.map((s) => [s.scored.sample.id, s.reason]),
  );
  assert.equal(selection.scored.length, plain.scored.length);
  let wrong = 0;
  for (const s of selection.selected) {
    const { sample, prediction } = s.scored;
    assert.equal(s.scored.samples?.length, prediction.prompt_too_long ? 0 : 2, sample.id);
    assert.ok(s.scored.fixable !== undefined);
    const ctx = { sample, truth: s.scored.case, chosen: sample.target_text };
    wrong += s.scored.samples!.filter((t) => usableWrongAnswer(ctx, t)).length;
    // Unfixable samples get image counterfactuals only.
    if (s.scored.fixable !== 'yes')
      assert.ok(draftsFor(s, { seed: 2 }).every((d) => d.kind === 'image_counterfactual'));
  }
  // Counts match the marks, with visibility read at the model's input size and the data set's render size.
  const visible = visibleFindings(model.version.config.imageSize, { renderSize: 64 });
  const invisible = selection.selected.filter(
    (s) => s.scored.sample.finding !== undefined && !visible.has(s.scored.sample.finding),
  ).length;
  assert.ok(invisible > 0, 'at 16 px some findings are invisible');
  assert.deepEqual(selection.extras, {
    sampledWrong: wrong,
    invisible,
    priorDriven: selection.selected.filter((s) => s.scored.fixable === 'prior_driven').length,
  });
  assert.ok(lines.some((l) => l.startsWith('sampling: ') && l.includes(`${wrong} of `)));
  assert.ok(
    lines.some(
      (l) => l.startsWith('fixable: ') && l.includes(`${invisible} invisible (at 16 px or to the encoder)`),
    ),
  );
});

test('mineAndSelect with only the fixable extra: no samples drawn, sampledWrong 0', async () => {
  const { selection, stages } = await select('fixable-only', { fixable: true });
  assert.deepEqual(stages, ['mining', 'fixable']);
  assert.equal(selection.extras?.sampledWrong, 0);
  for (const s of selection.selected) {
    assert.equal(s.scored.samples, undefined);
    assert.ok(s.scored.fixable);
  }
});
