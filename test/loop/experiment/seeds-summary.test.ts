import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../../src/cli/args.ts';
import { summarizeCommand } from '../../../src/cli/experiment-summarize.ts';
import {
  gainsTable,
  preferenceTrend,
  type ResultsJsonArm,
  type ResultsJsonFile,
  type SeedRun,
  targetChecks,
} from '../../../src/loop/experiment/seeds-summary.ts';

const arm = (name: ResultsJsonArm['arm'], over: Partial<ResultsJsonArm> = {}): ResultsJsonArm => ({
  arm: name,
  primary: 0.6,
  vs_sft: null,
  vs_sft_continued: null,
  pope_adversarial_yes: 0.2,
  hallucination_closed: 0.1,
  omission: 0.5,
  permuted_primary: 0.3,
  findings_worse: [],
  heldout_preference_accuracy: null,
  train_preference_accuracy: null,
  ...over,
});

const file = (arms: ResultsJsonArm[], seed?: number): ResultsJsonFile => ({
  base_version: 'v0004',
  ...(seed === undefined ? {} : { seed }),
  question_only_primary: 0.4,
  arms,
});

const winning: SeedRun = {
  label: 'seed 0',
  results: file([
    arm('sft'),
    arm('full_loop', {
      primary: 0.66,
      vs_sft: { relative: 0.1, lo: 0.02, hi: 0.18 },
      vs_sft_continued: { relative: 0.05, lo: 0.01, hi: 0.09 },
      hallucination_closed: 0.04,
      pope_adversarial_yes: 0.1,
      omission: 0.51,
      heldout_preference_accuracy: 0.7,
      train_preference_accuracy: 0.8,
    }),
  ]),
};

const losing: SeedRun = {
  label: 'seed 1',
  results: file([
    arm('sft'),
    arm('full_loop', {
      vs_sft: { relative: -0.01, lo: -0.03, hi: 0.01 },
      vs_sft_continued: { relative: 0.01, lo: -0.01, hi: 0.03 },
      hallucination_closed: 0.06,
      pope_adversarial_yes: 0.3,
      omission: 0.53,
      findings_worse: [{ finding: 'nodule', diff: -0.02 }],
      heldout_preference_accuracy: 0.6,
      train_preference_accuracy: 0.75,
    }),
  ]),
};

test('the targets are checked per seed: met where the full loop clears them, missed with the shortfall', () => {
  const checks = targetChecks([winning, losing]);
  const of = (label: string, target: string) =>
    checks.find((c) => c.label === label && c.target.startsWith(target));
  assert.equal(of('seed 0', 'primary')?.met, true);
  assert.equal(of('seed 1', 'primary')?.met, false);
  assert.match(of('seed 1', 'primary')?.detail ?? '', /short by 9\.9 points/);
  assert.equal(of('seed 0', 'beats continued')?.met, true);
  assert.equal(of('seed 1', 'beats continued')?.met, false);
  assert.equal(of('seed 0', 'closed hallucination')?.met, true, '0.1 → 0.04 is halved');
  assert.equal(of('seed 1', 'closed hallucination')?.met, false, '0.1 → 0.06 is not');
  assert.equal(of('seed 0', 'POPE')?.met, true);
  assert.equal(of('seed 1', 'POPE')?.met, false);
  assert.equal(of('seed 0', 'omission')?.met, true, '+0.01 is within the 0.02 allowed');
  assert.equal(of('seed 1', 'omission')?.met, false, '+0.03 is not');
  assert.equal(of('seed 1', "no finding's")?.met, false);
  assert.equal(of('seed 1', "no finding's")?.detail, 'nodule');
});

test('a seed without the full loop or SFT contributes no target checks', () => {
  const partial: SeedRun = { label: 'seed 2', results: file([arm('sft'), arm('chexpo')]) };
  assert.deepEqual(targetChecks([partial]), []);
});

test('the gains table has one column per seed and a dash where a seed lacks the arm', () => {
  const onlyFirst: SeedRun = {
    label: 'seed 0',
    results: file([
      ...winning.results.arms,
      arm('chexpo', { vs_sft: { relative: 0.02, lo: -0.01, hi: 0.05 } }),
    ]),
  };
  const t = gainsTable([onlyFirst, losing]).split('\n');
  assert.match(t[0], /vs SFT, seed 0 \| vs SFT, seed 1/);
  const chexpo = t.find((l) => l.startsWith('| CheXPO'));
  assert.ok(chexpo);
  assert.match(chexpo, /\| \+2\.0% \[-1\.0%, \+5\.0%\] \| — \|/);
  const loop = t.find((l) => l.startsWith('| full loop'));
  assert.match(loop ?? '', /\+10\.0% \[\+2\.0%, \+18\.0%\] \| -1\.0% \[-3\.0%, \+1\.0%\]/);
});

test('the preference trend ranks held-out against training accuracy over every DPO run', () => {
  const runWith = (points: Array<[number, number]>): SeedRun => ({
    label: 'x',
    results: file([
      arm('sft'),
      ...points.map(([train, held]) =>
        arm('chexpo', { train_preference_accuracy: train, heldout_preference_accuracy: held }),
      ),
    ]),
  });
  const rising = preferenceTrend([
    runWith([
      [0.7, 0.55],
      [0.8, 0.6],
    ]),
    runWith([[0.9, 0.62]]),
  ]);
  assert.equal(rising?.runs, 3);
  assert.equal(rising?.spearman, 1);
  assert.ok(Math.abs((rising?.meanGap ?? 0) - (0.15 + 0.2 + 0.28) / 3) < 1e-12);
  const memorised = preferenceTrend([
    runWith([
      [0.7, 0.62],
      [0.8, 0.6],
      [0.9, 0.55],
    ]),
  ]);
  assert.equal(memorised?.spearman, -1);
  assert.equal(preferenceTrend([runWith([[0.7, 0.6]])]), null, 'fewer than 3 runs: no trend');
});

test('summarize labels runs by their seed field and refuses a file that is not a results.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-seeds-'));
  const a = join(dir, 'a.json');
  const bad = join(dir, 'bad.json');
  await writeFile(a, JSON.stringify(file(winning.results.arms, 3)));
  await writeFile(bad, JSON.stringify({ hello: 1 }));
  const out = join(dir, 'summary.md');
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => written.push(s) > 0) as typeof process.stdout.write;
  try {
    await summarizeCommand(['--runs', `${a},mine=${a}`, '--out', out]);
  } finally {
    process.stdout.write = write;
  }
  assert.match(written.join(''), /vs SFT, seed 3 \| vs SFT, mine/);
  await assert.rejects(
    summarizeCommand(['--runs', bad]),
    (e) => e instanceof UsageError && /no "arms"/.test(e.message),
  );
  await assert.rejects(summarizeCommand([]), UsageError);
});
