import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskType } from '../../../src/data/types.ts';
import { balanceChosenAnswers, chosenSide } from '../../../src/loop/pairs/balance.ts';
import type { PairCandidate } from '../../../src/loop/types.ts';

function pair(id: string, task: TaskType, finding: string, chosen: string): PairCandidate {
  const image = { kind: 'case', case_id: id } as const;
  return {
    prompt: 'q',
    chosen: `${chosen}. because`,
    rejected: 'other. because',
    kind: 'negation',
    weight: 1,
    chosenImage: image,
    rejectedImage: image,
    provenance: {
      sample_id: id,
      case_id: id,
      task,
      finding: finding as PairCandidate['provenance']['finding'],
      reason: 'wrong',
      generator: 'test',
      seed: 0,
    },
  } as PairCandidate;
}

test('chosenSide reads present/absent from yes/no and from "none" against a named value', () => {
  assert.equal(chosenSide(pair('a', 'closed', 'effusion', 'yes')), 'present');
  assert.equal(chosenSide(pair('a', 'closed', 'effusion', 'no')), 'absent');
  assert.equal(chosenSide(pair('a', 'open', 'nodule', 'none')), 'absent');
  assert.equal(chosenSide(pair('a', 'open', 'nodule', 'right upper zone')), 'present');
  assert.equal(chosenSide(pair('a', 'choice', 'line_tip', 'none')), 'absent');
  assert.equal(chosenSide(pair('a', 'report', 'nodule', 'none')), null);
});

test('open and choice pairs choosing a named value are capped to those choosing "none", per finding and task', () => {
  const pairs = [
    ...Array.from({ length: 6 }, (_, i) => pair(`o${i}`, 'open', 'nodule', 'left lower zone')),
    ...Array.from({ length: 3 }, (_, i) => pair(`n${i}`, 'open', 'nodule', 'none')),
    // A different task of the same finding is balanced on its own.
    ...Array.from({ length: 4 }, (_, i) => pair(`c${i}`, 'closed', 'nodule', 'yes')),
    pair('cn', 'closed', 'nodule', 'no'),
    pair('r', 'report', 'nodule', 'irrelevant'),
  ];
  const kept = balanceChosenAnswers(pairs, 2).map((p) => p.provenance.sample_id);
  assert.deepEqual(kept, ['o0', 'o1', 'o2', 'n0', 'n1', 'n2', 'c0', 'c1', 'cn', 'r']);
});
