import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskType } from '../../../src/data/types.ts';
import { LoopConfigError, resolveLoopConfig } from '../../../src/loop/config.ts';
import { answerPresence, balancePairDirections, pairDirection } from '../../../src/loop/pairs/balance.ts';
import type { ImageRef, PairCandidate } from '../../../src/loop/types.ts';

function pair(
  id: string,
  task: TaskType,
  finding: string,
  chosen: string,
  rejected: string,
  rejectedImage?: ImageRef,
): PairCandidate {
  const image = { kind: 'case', case_id: id } as const;
  return {
    prompt: 'q',
    chosen: `${chosen}. because`,
    rejected: `${rejected}. because`,
    kind: rejectedImage ? 'image_counterfactual' : 'negation',
    weight: 1,
    chosenImage: image,
    rejectedImage: rejectedImage ?? image,
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

const edited = (finding: string, change: unknown): ImageRef =>
  ({ kind: 'phantom_edit', case_id: 'x', edit: { finding, change } }) as ImageRef;

test('answerPresence reads yes/no and "none" against a named value', () => {
  assert.equal(answerPresence('closed', 'Yes. because'), 'present');
  assert.equal(answerPresence('closed', 'no'), 'absent');
  assert.equal(answerPresence('open', 'none'), 'absent');
  assert.equal(answerPresence('open', 'right upper zone'), 'present');
  assert.equal(answerPresence('report', 'none'), null);
});

test('a text pair has a direction only when its sides differ in presence', () => {
  assert.equal(pairDirection(pair('a', 'closed', 'nodule', 'yes', 'no')), 'present');
  assert.equal(pairDirection(pair('a', 'open', 'nodule', 'none', 'left lower zone')), 'absent');
  // A named value against another named value does not move the "none" prior.
  assert.equal(pairDirection(pair('a', 'choice', 'nodule', 'left lower zone', 'right upper zone')), null);
  assert.equal(pairDirection(pair('a', 'report', 'nodule', 'a', 'b')), null);
});

test('an image counterfactual favours absent when the asked finding is removed, present when added', () => {
  const same = (change: unknown, finding = 'nodule') =>
    pairDirection(
      pair('a', 'choice', 'nodule', 'left lower zone', 'left lower zone', edited(finding, change)),
    );
  assert.equal(same('remove'), 'absent');
  assert.equal(same('add'), 'present');
  assert.equal(same({ side: 'left' }), null);
  assert.equal(same('remove', 'mass'), null);
});

test('directions are capped to each other per finding and task; pairs without one pass', () => {
  const pairs = [
    ...Array.from({ length: 5 }, (_, i) => pair(`a${i}`, 'open', 'nodule', 'none', 'left lower zone')),
    pair('p0', 'open', 'nodule', 'left lower zone', 'none'),
    ...Array.from({ length: 3 }, (_, i) =>
      pair(`s${i}`, 'open', 'nodule', 'left lower zone', 'right lower zone'),
    ),
    // Another task of the same finding is balanced on its own.
    ...Array.from({ length: 4 }, (_, i) => pair(`c${i}`, 'closed', 'nodule', 'yes', 'no')),
    ...Array.from({ length: 3 }, (_, i) => pair(`cn${i}`, 'closed', 'nodule', 'no', 'yes')),
    ...Array.from({ length: 3 }, (_, i) =>
      pair(`r${i}`, 'closed', 'nodule', 'yes', 'yes', edited('nodule', 'remove')),
    ),
  ];
  const kept = balancePairDirections(pairs, 2).map((p) => p.provenance.sample_id);
  // open: 5 absent against 1 present → absent capped to the floor 2; closed: 4 present against
  // 3 + 3 absent (the removals count as absent) → absent capped to 4.
  assert.deepEqual(kept, [
    'a0',
    'a1',
    'p0',
    's0',
    's1',
    's2',
    'c0',
    'c1',
    'c2',
    'c3',
    'cn0',
    'cn1',
    'cn2',
    'r0',
  ]);
});

test('absentPerPresent tilts the caps: r absent-favouring pairs per present-favouring one', () => {
  const closed = (id: string, chosen: string, rejected: string) =>
    pair(id, 'closed', 'nodule', chosen, rejected);
  const pairs = [
    ...Array.from({ length: 6 }, (_, i) => closed(`y${i}`, 'yes', 'no')),
    ...Array.from({ length: 6 }, (_, i) => closed(`n${i}`, 'no', 'yes')),
  ];
  const count = (kept: { provenance: { sample_id: string } }[], prefix: string) =>
    kept.filter((p) => p.provenance.sample_id.startsWith(prefix)).length;
  const balanced = balancePairDirections(pairs, 2);
  assert.deepEqual([count(balanced, 'y'), count(balanced, 'n')], [6, 6]);
  // r = 2: present capped to 6 / 2 = 3, absent to 6 · 2 → all 6 it has.
  const tilted = balancePairDirections(pairs, 2, 2);
  assert.deepEqual([count(tilted, 'y'), count(tilted, 'n')], [3, 6]);
  // r = 0.5 mirrors it.
  const toPresent = balancePairDirections(pairs, 2, 0.5);
  assert.deepEqual([count(toPresent, 'y'), count(toPresent, 'n')], [6, 3]);
  assert.throws(() => balancePairDirections(pairs, 2, 0), RangeError);
});

test('the loop configuration takes absentPerPresent, unset by default, and refuses a non-positive one', () => {
  assert.equal(resolveLoopConfig().pairs.absentPerPresent, undefined);
  assert.equal(resolveLoopConfig({ pairs: { absentPerPresent: 1.5 } }).pairs.absentPerPresent, 1.5);
  assert.throws(() => resolveLoopConfig({ pairs: { absentPerPresent: 0 } }), LoopConfigError);
});

test("imageDirection 'answer' reads an image counterfactual by the answer both sides share", () => {
  const closedCf = (answer: string, change: unknown) =>
    pair('a', 'closed', 'nodule', answer, answer, edited('nodule', change));
  // A removed finding: the shared answer is "yes" (present on the real image).
  assert.equal(pairDirection(closedCf('yes', 'remove')), 'absent');
  assert.equal(pairDirection(closedCf('yes', 'remove'), 'answer'), 'present');
  assert.equal(pairDirection(closedCf('no', 'add'), 'answer'), 'absent');
  assert.equal(pairDirection(closedCf('yes', { side: 'left' }), 'answer'), null);
  // Balancing follows the reading: three "yes" counterfactuals against one text pair favouring absent.
  const pairs = [
    ...Array.from({ length: 3 }, (_, i) => ({ ...closedCf('yes', 'remove'), prompt: `cf${i}` })),
    pair('t', 'closed', 'nodule', 'no', 'yes'),
  ];
  assert.equal(
    balancePairDirections(pairs, 1, 1, 'edit').length,
    1,
    'edit: four absent-favouring, none present → floor 1',
  );
  assert.equal(
    balancePairDirections(pairs, 1, 1, 'answer').length,
    2,
    'answer: three present against one absent → 1 each',
  );
  assert.deepEqual(
    balancePairDirections(pairs, 1, 3, 'answer').map((p) => p.prompt),
    ['cf0', 'q'],
    'answer, r 3: present capped at absent / 3 → floor 1; the absent one kept',
  );
  assert.equal(resolveLoopConfig({ pairs: { imageDirection: 'answer' } }).pairs.imageDirection, 'answer');
  assert.throws(() => resolveLoopConfig({ pairs: { imageDirection: 'x' as 'edit' } }), LoopConfigError);
});
