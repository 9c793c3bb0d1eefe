import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareTraffic, type ScoredAnswer } from '../../scripts/demo/traffic-stats.ts';

const answer = (caseId: string, correct: boolean, risk: number, status = 200): ScoredAnswer => ({
  caseId,
  status,
  correct,
  risk,
});

/** 40 patients, 3 questions each; `right(p, q)` says which answers are correct. */
function traffic(right: (p: number, q: number) => boolean, risk: number): ScoredAnswer[] {
  return Array.from({ length: 120 }, (_, i) =>
    answer(`p${Math.floor(i / 3)}`, right(Math.floor(i / 3), i % 3), risk),
  );
}

test('held-out traffic before and after: point values, patient-level intervals, the paired difference', () => {
  const before = traffic((p, q) => (p + q) % 2 === 0, 0.6);
  const after = traffic((p, q) => (p + q) % 2 === 0 || q === 1, 0.4);
  const c = compareTraffic(before, after, 500, 1);
  assert.equal(c.n, 120);
  assert.equal(c.patients, 40);
  assert.ok(Math.abs(c.accuracy.before.value - 60 / 120) < 1e-12);
  assert.ok(Math.abs(c.accuracy.after.value - 80 / 120) < 1e-12);
  assert.ok(Math.abs(c.meanRisk.diff.value + 0.2) < 1e-12);
  for (const e of [c.accuracy.before, c.accuracy.after, c.accuracy.diff])
    assert.ok(e.lo <= e.value && e.value <= e.hi && e.hi - e.lo > 0, JSON.stringify(e));
  // Every patient gains or keeps: the paired difference's whole interval is above 0.
  assert.ok(c.accuracy.diff.lo > 0, JSON.stringify(c.accuracy.diff));
  // Risk moved by the same amount for everyone: no spread in the paired difference.
  assert.ok(Math.abs(c.meanRisk.diff.hi - c.meanRisk.diff.lo) < 1e-9);
});

test('a failed answer counts as wrong and is left out of the mean risk; mismatched traffic is refused', () => {
  const before = [answer('a', true, 0.2), answer('b', true, 0.4)];
  const after = [answer('a', true, 0.2), answer('b', false, Number.NaN, 503)];
  const c = compareTraffic(before, after, 50);
  assert.equal(c.accuracy.after.value, 0.5);
  assert.ok(Math.abs(c.meanRisk.after.value - 0.2) < 1e-12);
  assert.throws(() => compareTraffic(before, [after[1], after[0]]), /same questions/);
});
