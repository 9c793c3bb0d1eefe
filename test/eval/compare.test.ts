import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstructionSample } from '../../src/data/types.ts';
import {
  compareModels,
  EvaluationError,
  formatComparison,
  gateDecision,
  toGateRecord,
} from '../../src/eval/index.ts';
import { noisyPredictions, phantomSet } from './fixtures.ts';

const { cases, samples } = phantomSet(150, 500);
const current = noisyPredictions(samples, () => 0.25, 11);
const options = { cases, resamples: 300, seed: 2 };

test('the gate promotes a clearly better candidate and lists every check', () => {
  const better = noisyPredictions(samples, () => 0.1, 12);
  const comparison = compareModels(samples, current, better, options);
  const p = comparison.metrics.primary;
  assert.ok(p.diff > 0.05 && p.lo > 0, `primary ${p.diff} [${p.lo}, ${p.hi}]`);
  assert.ok(p.lo <= p.diff && p.diff <= p.hi);
  assert.ok(p.p_diff_le_0 < 0.01);
  const decision = gateDecision(comparison);
  assert.equal(decision.promote, true, decision.reasons.join('\n'));
  const names = decision.checks.map((c) => c.name);
  for (const n of [
    'primary gain',
    'hallucination rate',
    'omission rate',
    'calibration (ECE)',
    'accuracy of pleural_effusion',
  ])
    assert.ok(names.includes(n), n);
  assert.equal(decision.reasons.length, decision.checks.length + 1);
  assert.match(formatComparison(comparison, decision), /PASS primary gain/);
  assert.equal(JSON.parse(JSON.stringify(toGateRecord(comparison, decision))).promote, true);
});

test('the gate refuses a candidate that is better overall but hallucinates beyond the margin', () => {
  // The current model errs only on choice, open and list answers; the candidate fixes those but
  // says "yes" to 30 % of absent findings in closed questions.
  const generative = new Set(['choice', 'open', 'abnormality_list']);
  const careful = noisyPredictions(samples, (s) => (generative.has(s.task) ? 0.25 : 0), 15);
  const hallucinating = noisyPredictions(
    samples,
    (s: InstructionSample) => (s.task === 'closed' && s.answer === 'no' ? 0.3 : 0),
    13,
  );
  const comparison = compareModels(samples, careful, hallucinating, options);
  assert.ok(comparison.metrics.primary.lo > 0, 'better overall');
  const h = comparison.metrics['hallucination.rate'];
  assert.ok(h.diff > 0.01, `hallucination rose by ${h.diff}`);
  const decision = gateDecision(comparison);
  assert.equal(decision.promote, false);
  const failed = decision.checks.filter((c) => !c.passed).map((c) => c.name);
  assert.ok(failed.includes('hallucination rate'), failed.join(', '));
  assert.ok(!failed.includes('primary gain'));
  assert.match(decision.reasons[0], /^refuse: .*hallucination rate/);
  // A looser margin lets the same candidate through that check.
  const loose = gateDecision(comparison, {
    safetyMargins: { hallucination: 0.5, adversarialYesRatio: 1, perFindingAccuracy: 1 },
  });
  assert.equal(loose.checks.find((c) => c.name === 'hallucination rate')?.passed, true);
});

test('an identical candidate is refused: no gain above zero', () => {
  const comparison = compareModels(samples, current, current, options);
  assert.equal(comparison.metrics.primary.diff, 0);
  assert.equal(comparison.metrics.primary.p_diff_le_0, 1);
  const decision = gateDecision(comparison);
  assert.equal(decision.promote, false);
  assert.deepEqual(
    decision.checks.filter((c) => !c.passed).map((c) => c.name),
    ['primary gain'],
  );
});

test('interval evidence is stricter than point evidence on the safety checks', () => {
  // A candidate as good as the current model but for a few more "yes" answers about absent findings.
  const base = noisyPredictions(samples, () => 0.1, 11);
  const slightlyWorse = noisyPredictions(
    samples,
    (s) => (s.task === 'closed' && s.answer === 'no' ? 0.14 : 0.1),
    14,
  );
  const comparison = compareModels(samples, base, slightlyWorse, options);
  const point = gateDecision(comparison, { safetyEvidence: 'point' });
  const strict = gateDecision(comparison, { safetyEvidence: 'interval' });
  const failures = (d: typeof point) => d.checks.filter((c) => !c.passed).length;
  assert.ok(failures(strict) > failures(point), `${failures(strict)} vs ${failures(point)}`);
});

test('a candidate run with a missing prediction cannot be compared', () => {
  assert.throws(
    () => compareModels(samples, current, current.slice(1), options),
    (e: unknown) => e instanceof EvaluationError && e.code === 'CHEXPO_ERR_EVAL_MISSING_PREDICTION',
  );
});
