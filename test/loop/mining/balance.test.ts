import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  balanceSelection,
  cellKey,
  dedupeSelection,
  distribution,
  formatDistribution,
  preferenceBudget,
} from '../../../src/loop/mining/index.ts';
import type { HardReason, SelectedSample } from '../../../src/loop/types.ts';
import { type FakeSample, fakeScored } from './helpers.ts';

const pick = (
  f: FakeSample,
  reason: HardReason = f.correct === false ? 'wrong' : 'low_confidence',
): SelectedSample => ({
  scored: fakeScored(f),
  reason,
});

/** 100 closed/effusion (a big easy class), 10 open/nodule, 5 reports (no finding). */
function selection(): SelectedSample[] {
  return [
    ...Array.from({ length: 100 }, (_, i) =>
      pick({ id: `e${i}`, finding: 'pleural_effusion', correct: i % 4 !== 0, confidence: (i % 50) / 100 }),
    ),
    ...Array.from({ length: 10 }, (_, i) =>
      pick({ id: `n${i}`, task: 'open', finding: 'nodule', correct: false }),
    ),
    ...Array.from({ length: 5 }, (_, i) => pick({ id: `r${i}`, task: 'report', correct: false })),
  ];
}

test('preferenceBudget is 5% of the SFT samples by default', () => {
  assert.equal(preferenceBudget(67_058), 3352);
  assert.equal(preferenceBudget(1000, 0.1), 100);
  assert.equal(preferenceBudget(10), 1);
  assert.equal(preferenceBudget(0), 0);
  assert.throws(() => preferenceBudget(100, 0), { code: 'CHEXPO_ERR_MINING_BAD_OPTION' });
});

test('cells are capped; findings absent fall in the none row', () => {
  const out = balanceSelection(selection(), { budget: 1000, capPerCell: 8 });
  const d = distribution(out);
  assert.deepEqual(d.cells, { 'pleural_effusion/closed': 8, 'nodule/open': 8, 'none/report': 5 });
  assert.equal(d.total, 21);
  assert.equal(cellKey(out.find((s) => s.scored.sample.task === 'report')!), 'none/report');
});

test('inside a cell: wrong before unsure, then lower confidence first', () => {
  const out = balanceSelection(selection(), { budget: 1000, capPerCell: 30 });
  const effusion = out.filter((s) => s.scored.sample.finding === 'pleural_effusion');
  assert.equal(effusion.length, 30);
  // 25 of the 100 are wrong: all 25 are in, then the 5 least confident unsure ones.
  assert.equal(effusion.filter((s) => !s.scored.correct).length, 25);
  const unsure = effusion.filter((s) => s.scored.correct).map((s) => s.scored.confidence);
  const allUnsure = selection()
    .filter((s) => s.scored.sample.finding === 'pleural_effusion' && s.scored.correct)
    .map((s) => s.scored.confidence)
    .sort((a, b) => a - b);
  assert.deepEqual(
    unsure.sort((a, b) => a - b),
    allUnsure.slice(0, 5),
  );
});

test('the budget is shared round-robin, so small cells keep their samples', () => {
  const out = balanceSelection(selection(), { budget: 12, capPerCell: 50 });
  assert.equal(out.length, 12);
  const d = distribution(out);
  // 3 cells, 4 rounds: every cell gets 4 (the report cell has 5, so it is not exhausted).
  assert.deepEqual(d.cells, { 'pleural_effusion/closed': 4, 'nodule/open': 4, 'none/report': 4 });
  assert.equal(balanceSelection(selection(), { budget: 0, capPerCell: 5 }).length, 0);
});

test('the choice is deterministic for a seed and independent of input order', () => {
  const ids = (s: SelectedSample[]) => s.map((x) => x.scored.sample.id);
  const a = balanceSelection(selection(), { budget: 20, capPerCell: 10, seed: 3 });
  const b = balanceSelection(selection().reverse(), { budget: 20, capPerCell: 10, seed: 3 });
  assert.deepEqual(ids(a), ids(b));
  // Ties (equal wrongness and confidence) are broken by the seed: the nodule cell is all ties.
  const nodules = (seed: number) =>
    ids(balanceSelection(selection(), { budget: 100, capPerCell: 3, seed })).filter((id) =>
      id.startsWith('n'),
    );
  const seen = new Set([0, 1, 2, 3, 4, 5].map((seed) => nodules(seed).sort().join(',')));
  assert.ok(seen.size > 1, 'different seeds choose different tied samples');
});

test('a sample selected twice keeps its strongest reason', () => {
  const s = fakeScored({ id: 'x', correct: false });
  const out = dedupeSelection([
    { scored: s, reason: 'similar_to_hard', neighbourOf: { id: 'y', distance: 0.1 } },
    { scored: s, reason: 'wrong' },
    { scored: fakeScored({ id: 'z' }), reason: 'low_confidence' },
  ]);
  assert.deepEqual(
    out.map((o) => [o.scored.sample.id, o.reason]),
    [
      ['x', 'wrong'],
      ['z', 'low_confidence'],
    ],
  );
  assert.equal(balanceSelection([out[0], out[0], out[1]], { budget: 10, capPerCell: 10 }).length, 2);
});

test('formatDistribution prints findings down, tasks across, with totals', () => {
  const text = formatDistribution(
    distribution(balanceSelection(selection(), { budget: 1000, capPerCell: 8 })),
  );
  const lines = text.split('\n');
  assert.match(lines[0], /^finding\s+closed\s+open\s+report\s+total$/);
  assert.match(text, /^nodule\s+0\s+8\s+0\s+8$/m);
  assert.match(text, /^none\s+0\s+0\s+5\s+5$/m);
  assert.match(text, /^total\s+8\s+8\s+5\s+21$/m);
  assert.match(text, /by reason: /);
});
