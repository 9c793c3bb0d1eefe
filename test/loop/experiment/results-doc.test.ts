import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Comparison } from '../../../src/eval/index.ts';
import {
  findingsWorse,
  relativeGain,
  resultsDoc,
  resultsJson,
} from '../../../src/loop/experiment/results-doc.ts';
import type { ArmResult, ExperimentResult } from '../../../src/loop/experiment/run-experiment.ts';

const diff = (
  current: number,
  candidate: number,
  lo: number,
  hi: number,
  better: 'higher' | 'lower' = 'higher',
) => ({
  current,
  candidate,
  diff: candidate - current,
  lo,
  hi,
  p_diff_le_0: 0,
  support: 100,
  better,
});

function comparison(primary: [number, number, number, number]): Comparison {
  return {
    n_samples: 10,
    n_cases: 2,
    resamples: 10,
    seed: 0,
    level: 0.95,
    metrics: {
      primary: diff(...primary),
      'pope.adversarial_yes_ratio': diff(0.1, 0.05, -0.08, -0.02, 'lower'),
      'hallucination.closed': diff(0.03, 0.02, -0.02, 0, 'lower'),
      'omission.rate': diff(0.5, 0.45, -0.07, -0.03, 'lower'),
    },
  };
}

const arm = (name: ArmResult['arm'], c: Comparison, vs: Comparison | null): ArmResult => ({
  arm: name,
  pairs: name === 'sft' ? 0 : 100,
  pairsByKind: name === 'sft' ? {} : { on_policy: 60, image_counterfactual: 40 },
  steps: name === 'sft' ? 0 : 25,
  tokens: 1000,
  comparison: c,
  vsContinued: vs,
  permutedPrimary: 0.3,
});

const result: ExperimentResult = {
  baseVersion: 'v0003',
  seed: 0,
  evalSplit: 'test',
  sftSamples: 1000,
  budget: 100,
  selections: { random: 50, confidence: 50, confSim: 50 },
  scored: 400,
  hard: 200,
  retrievalPrecision: 0.7,
  evalSamples: 10,
  evalCases: 2,
  questionOnlyPrimary: 0.39,
  arms: [
    arm('sft', comparison([0.6, 0.6, 0, 0]), null),
    arm('sft_continued', comparison([0.6, 0.63, 0.01, 0.05]), null),
    arm('full_loop', comparison([0.6, 0.66, 0.03, 0.09]), comparison([0.63, 0.66, -0.01, 0.07])),
  ],
  minutes: 1,
};

test('results.json carries the arm ids, primary and both relative gains with their intervals', () => {
  const j = resultsJson(result) as { base_version: string; arms: Array<Record<string, unknown>> };
  assert.equal(j.base_version, 'v0003');
  assert.deepEqual(
    j.arms.map((a) => a.arm),
    ['sft', 'sft_continued', 'full_loop'],
  );
  const full = j.arms[2] as { primary: number; vs_sft: { relative: number; lo: number; hi: number } };
  assert.equal(full.primary, 0.66);
  assert.ok(Math.abs(full.vs_sft.relative - 0.1) < 1e-9);
  assert.ok(Math.abs(full.vs_sft.lo - 0.05) < 1e-9 && Math.abs(full.vs_sft.hi - 0.15) < 1e-9);
  assert.ok(Math.abs((j.arms[2].vs_sft_continued as { relative: number }).relative - 0.03 / 0.63) < 1e-9);
  assert.equal(j.arms[0].vs_sft, null, 'the SFT row is the reference');
  assert.equal(j.arms[0].primary, 0.6, 'the SFT row reads the current side');
  for (const key of ['pope_adversarial_yes', 'hallucination_closed', 'omission'])
    assert.equal(typeof j.arms[2][key], 'number', key);
});

test('the table shows the controls and both comparisons', () => {
  const doc = resultsDoc(result, 'chexpo experiment …', 'test machine');
  assert.match(doc, /image-blind\s+baseline[^\n]*\n?[^\n]*\*\*0\.390\*\*/);
  assert.match(doc, /\| full loop[^\n]*\+10\.0% \[\+5\.0%, \+15\.0%\] \| \+4\.8% \[-1\.6%, \+11\.1%\] \|/);
  assert.equal(relativeGain(null), null);
});

test('findingsWorse lists a finding only when it fell by more than 0.01 with the whole interval below 0', () => {
  const c = comparison([0.6, 0.6, 0, 0]);
  c.metrics['finding_accuracy.atelectasis'] = diff(0.8, 0.7, -0.15, -0.05);
  c.metrics['finding_accuracy.nodule'] = diff(0.8, 0.78, -0.06, 0.01); // interval reaches 0
  c.metrics['finding_accuracy.mass'] = diff(0.8, 0.795, -0.009, -0.001); // fell by less than 0.01
  c.metrics['finding_accuracy.edema'] = diff(0.8, 0.77, -0.05, -0.01);
  c.metrics['hallucination.atelectasis'] = diff(0.1, 0.0, -0.2, -0.05, 'lower');
  const falls = findingsWorse(c);
  assert.deepEqual(
    falls.map((f) => f.finding),
    ['atelectasis', 'edema'],
  );
  assert.ok(Math.abs(falls[0].diff + 0.1) < 1e-9);
  assert.deepEqual(findingsWorse(null), []);
  const doc = resultsDoc(
    { ...result, arms: [result.arms[0], { ...result.arms[2], comparison: c }] },
    'chexpo experiment …',
    'test machine',
  );
  assert.match(doc, /\| atelectasis -0\.100, edema -0\.030 \|/);
});
