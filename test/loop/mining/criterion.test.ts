import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONFIDENCE_SOURCE,
  confidenceOf,
  hardReason,
  isHard,
  PASS_MARKS,
  passes,
  type Thresholds,
} from '../../../src/loop/mining/index.ts';
import { fakeScored } from './helpers.ts';

const thresholds: Thresholds = { closed: 0.6, choice: 0.5, open: 0.5, abnormality_list: 0.4, report: 0.3 };

test('confidenceOf reads the answer-span probability for every task (clipped to [0, 1])', () => {
  const p = { ...fakeScored({ id: 'a' }).prediction, answer_prob: 0.2, min_prob: 0.7 };
  assert.equal(confidenceOf({ ...p, task: 'closed' }), 0.2);
  assert.equal(confidenceOf({ ...p, task: 'open' }), 0.2);
  assert.equal(confidenceOf({ ...p, task: 'report' }), 0.2);
  assert.equal(confidenceOf({ ...p, task: 'abnormality_list' }), 0.2);
  // Measured choice (see criterion.ts): answer_prob for every task, lists included.
  assert.deepEqual(new Set(Object.values(CONFIDENCE_SOURCE)), new Set(['answer_prob']));
  // Out-of-range or missing numbers cannot make a sample look confident.
  assert.equal(confidenceOf({ ...p, task: 'closed', answer_prob: Number.NaN }), 0);
  assert.equal(confidenceOf({ ...p, task: 'closed', answer_prob: 1.5 }), 1);
});

test('pass marks: binary tasks need 1, lists and reports a perfect F1 (floating point tolerated)', () => {
  assert.equal(passes('closed', 1), true);
  assert.equal(passes('closed', 0), false);
  assert.equal(passes('report', 2 / 3), false);
  assert.equal(passes('report', 0.9999999999), true);
  assert.equal(passes('report', 0.75, { ...PASS_MARKS, report: 0.75 }), true);
});

test('hard = wrong, or right below the task threshold; wrong wins as the reason', () => {
  const cases: [Parameters<typeof fakeScored>[0], string | undefined][] = [
    [{ id: '1', task: 'closed', correct: false, confidence: 0.99 }, 'wrong'],
    [{ id: '2', task: 'closed', correct: false, confidence: 0.1 }, 'wrong'],
    [{ id: '3', task: 'closed', correct: true, confidence: 0.59 }, 'low_confidence'],
    [{ id: '4', task: 'closed', correct: true, confidence: 0.6 }, undefined],
    [{ id: '5', task: 'report', correct: true, confidence: 0.31 }, undefined],
    [{ id: '6', task: 'report', correct: true, confidence: 0.29 }, 'low_confidence'],
  ];
  for (const [f, reason] of cases) {
    const s = fakeScored(f);
    assert.equal(hardReason(s, thresholds), reason, JSON.stringify(f));
    assert.equal(isHard(s, thresholds), reason !== undefined);
  }
});
