import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLiveLabel } from '../../src/loop/mining/index.ts';
import {
  appendLabelEntry,
  type LabelEntry,
  labelEntries,
  latestPermittedEntry,
  MAX_LABEL_ENTRIES,
} from '../../src/store/index.ts';

const entry = (
  verdict: LabelEntry['verdict'],
  by: string,
  as: LabelEntry['as'],
  correct?: string,
): LabelEntry => ({
  verdict,
  ...(correct ? { correct_answer: correct } : {}),
  by,
  as,
  at: '2026-01-01T00:00:00.000Z',
});

test('labels are appended in order, never replaced, and the history is bounded', () => {
  let label: string | null = null;
  label = appendLabelEntry(label, entry('correct', 'aaaaaaaaaaaa', 'owner'));
  label = appendLabelEntry(label, entry('incorrect', 'bbbbbbbbbbbb', 'admin', 'no'));
  assert.deepEqual(
    labelEntries(label).map((e) => [e.verdict, e.by]),
    [
      ['correct', 'aaaaaaaaaaaa'],
      ['incorrect', 'bbbbbbbbbbbb'],
    ],
  );
  for (let i = 2; i < MAX_LABEL_ENTRIES; i++) label = appendLabelEntry(label, entry('correct', 'a', 'owner'));
  assert.equal(labelEntries(label).length, MAX_LABEL_ENTRIES);
  assert.equal(appendLabelEntry(label, entry('correct', 'a', 'owner')), null);
  // A plain reference answer is kept as the first entry, not lost.
  assert.deepEqual(labelEntries(appendLabelEntry('no effusion', entry('correct', 'a', 'owner')))[0], {
    reference: 'no effusion',
    as: 'reference',
  });
});

test('the loop reads the latest entry by a permitted author; older single-object labels still count', () => {
  const history = JSON.stringify({
    labels: [entry('incorrect', 'a', 'owner', 'left'), { verdict: 'correct', by: 'x', as: 'someone-else' }],
  });
  assert.equal(latestPermittedEntry(history)?.correct_answer, 'left');
  assert.deepEqual(parseLiveLabel(history, 'right'), { verdict: 'incorrect', correctAnswer: 'left' });
  assert.equal(parseLiveLabel(JSON.stringify({ labels: [{ reference: 'x', as: 'reference' }] }), 'x'), null);
  const legacy = JSON.stringify({ verdict: 'incorrect', correct_answer: 'right', by: 'k', at: 't' });
  assert.deepEqual(parseLiveLabel(legacy, 'left'), { verdict: 'incorrect', correctAnswer: 'right' });
  assert.deepEqual(parseLiveLabel('yes', 'yes'), { verdict: 'correct', correctAnswer: 'yes' });
});
