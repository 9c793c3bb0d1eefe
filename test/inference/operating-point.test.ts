import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstructionSample } from '../../src/data/types.ts';
import { greedyToken } from '../../src/inference/generate.ts';
import {
  closedAnswerBias,
  fitOperatingPoint,
  OPERATING_POINT_FORMAT,
  parseOperatingPoint,
  redecideClosed,
} from '../../src/inference/operating-point.ts';
import { LoopConfigError, resolveLoopConfig } from '../../src/loop/config.ts';
import { phantomSet, predict } from '../eval/fixtures.ts';

const YES = 3;
const NO = 4;

/** Logits over 6 tokens where p(yes) / (p(yes) + p(no)) = q and "other" tokens have `other` logit. */
function logitsFor(q: number, other = -20): Float32Array {
  const l = new Float32Array(6).fill(other);
  l[YES] = Math.log(q);
  l[NO] = Math.log(1 - q);
  return l;
}

test('the bias answers yes exactly when P(yes) over {yes, no} exceeds the threshold', () => {
  for (const [q, t, expected] of [
    [0.7, 0.5, YES],
    [0.7, 0.6, YES],
    [0.7, 0.75, NO],
    [0.95, 0.9, YES],
    [0.85, 0.9, NO],
  ] as const) {
    const logits = logitsFor(q);
    closedAnswerBias(YES, NO, t)(logits, []);
    assert.equal(greedyToken(logits).id, expected, `q ${q}, t ${t}`);
  }
  // The reported confidence stays a probability of the shifted distribution, not a forced 1.
  const logits = logitsFor(0.7);
  closedAnswerBias(YES, NO, 0.8)(logits, []);
  const chosen = greedyToken(logits);
  assert.equal(chosen.id, NO);
  assert.ok(Math.abs(Math.exp(chosen.logprob) - (0.3 * 4) / (0.7 + 0.3 * 4)) < 1e-5, String(chosen.logprob));
});

test('the bias touches only the first token, and only a yes/no one', () => {
  const later = logitsFor(0.7);
  closedAnswerBias(YES, NO, 0.9)(later, [YES]);
  assert.equal(greedyToken(later).id, YES, 'later tokens are left alone');
  // An open value ("left") on top: untouched even though "no" is close behind it.
  const open = logitsFor(0.5, -20);
  open[1] = Math.log(0.6);
  open[YES] = Math.log(0.1);
  open[NO] = Math.log(0.3);
  const before = Float32Array.from(open);
  closedAnswerBias(YES, NO, 0.9)(open, []);
  assert.deepEqual(open, before);
  assert.throws(() => closedAnswerBias(YES, NO, 1), { code: 'CHEXPO_ERR_EVALRUN_BAD_OPERATING_POINT' });
  assert.throws(() => closedAnswerBias(YES, NO, 0.4), { code: 'CHEXPO_ERR_EVALRUN_BAD_OPERATING_POINT' });
});

test('operating-point.json is validated', () => {
  assert.equal(parseOperatingPoint(undefined), undefined);
  const doc = { format: OPERATING_POINT_FORMAT, closed_yes_threshold: 0.8 };
  assert.equal(parseOperatingPoint(doc)?.closed_yes_threshold, 0.8);
  for (const bad of [
    { ...doc, format: 'x' },
    { ...doc, closed_yes_threshold: 1.2 },
    { format: OPERATING_POINT_FORMAT },
  ])
    assert.throws(() => parseOperatingPoint(bad), { code: 'CHEXPO_ERR_EVALRUN_BAD_OPERATING_POINT' });
});

/**
 * Phantom closed questions answered "yes" on every one: P(yes) 0.9 where the finding is present, `absentYes`
 * where it is absent (each absent "yes" a hallucination at the model's own argmax).
 */
function yesSayer(absentYes: number) {
  const { cases, samples } = phantomSet(30, 11);
  const closed = samples.filter((s) => s.task === 'closed');
  const predictions = closed.map((s: InstructionSample) => {
    const present = s.answer === 'yes';
    return predict(s, 'yes. r', present ? 0.9 : absentYes);
  });
  return { cases, samples: closed, predictions };
}

test('redecideClosed flips the answers the threshold moves, keeping the rationale', () => {
  const { samples, predictions } = yesSayer(0.7);
  const moved = redecideClosed(predictions, () => true, 0.8);
  samples.forEach((s, i) => {
    assert.equal(moved[i].text, s.answer === 'yes' ? 'yes. r' : 'no. r');
    assert.ok(Math.abs(moved[i].answer_prob - (s.answer === 'yes' ? 0.9 : 0.3)) < 1e-12);
  });
  assert.deepEqual(
    redecideClosed(predictions, () => false, 0.8),
    predictions,
  );
});

test('fitOperatingPoint picks the most sensitive threshold within the limits, or says none meets them', () => {
  const { cases, samples, predictions } = yesSayer(0.7);
  const limits = { maxAdversarialYes: 0, maxClosedHallucination: 0 };
  const op = fitOperatingPoint(samples, predictions, cases, limits);
  assert.ok(samples.some((s) => s.answer === 'no') && samples.some((s) => s.answer === 'yes'));
  assert.equal(
    op.closed_yes_threshold,
    0.7,
    'P(yes) 0.7 is not above 0.7: every absent finding becomes "no"',
  );
  assert.equal(op.fitted.met, true);
  const at = (t: number) => op.table.find((r) => r.threshold === t)!;
  assert.ok(at(0.5).hallucination_closed > 0.5 && at(0.5).omission_closed === 0);
  assert.equal(at(0.7).hallucination_closed, 0);
  assert.equal(at(0.7).omission_closed, 0, 'present findings (P(yes) 0.9) still answered yes');
  assert.equal(at(0.9).omission_closed, 1, 'at 0.9 every present finding is omitted too');
  // Loose limits keep the model's own argmax.
  assert.equal(
    fitOperatingPoint(samples, predictions, cases, { maxAdversarialYes: 1, maxClosedHallucination: 1 })
      .closed_yes_threshold,
    0.5,
  );
  const never = fitOperatingPoint(samples, yesSayer(0.995).predictions, cases, limits);
  assert.equal(never.closed_yes_threshold, 0.99);
  assert.equal(never.fitted.met, false);
});

test('the loop configuration fits the operating point by default and validates its limits', () => {
  assert.deepEqual(resolveLoopConfig().operatingPoint, { fit: true });
  assert.deepEqual(resolveLoopConfig({ operatingPoint: { fit: false } }).operatingPoint, { fit: false });
  const c = resolveLoopConfig({ operatingPoint: { fit: true, maxAdversarialYes: 0.05 } });
  assert.deepEqual(c.operatingPoint, { fit: true, maxAdversarialYes: 0.05 });
  assert.throws(() => resolveLoopConfig({ operatingPoint: { maxClosedHallucination: 2 } }), LoopConfigError);
  assert.throws(
    () => resolveLoopConfig({ operatingPoint: { fit: 'yes' as unknown as boolean } }),
    LoopConfigError,
  );
});
