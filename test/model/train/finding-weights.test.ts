import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FINDING_KEYS, type Finding } from '../../../src/data/types.ts';
import { findingTargets, parseFindingWeights } from '../../../src/model/train/dataset.ts';

const findings = [
  { name: 'central_line', present: true },
  { name: 'cardiomegaly', present: false },
] as Finding[];

test('the finding mask carries each known label’s weight; unknown findings stay at 0', () => {
  const plain = findingTargets(findings);
  const weighted = findingTargets(findings, parseFindingWeights('central_line=4'));
  const line = FINDING_KEYS.indexOf('central_line');
  const heart = FINDING_KEYS.indexOf('cardiomegaly');
  assert.equal(plain.mask[line], 1);
  assert.equal(weighted.mask[line], 4);
  assert.equal(weighted.mask[heart], 1);
  assert.deepEqual(weighted.labels, plain.labels);
  assert.equal(weighted.labels[line], 1);
  const unknown = FINDING_KEYS.indexOf('nodule');
  assert.equal(weighted.mask[unknown], 0);
});

test('a bad --finding-weight spec is refused with the reason', () => {
  assert.throws(() => parseFindingWeights('lines=2'), /not <finding>=<number > 0>/);
  assert.throws(() => parseFindingWeights('nodule=0'), /not <finding>=<number > 0>/);
  assert.deepEqual(parseFindingWeights(' nodule=2.5 , atelectasis=4 '), { nodule: 2.5, atelectasis: 4 });
});
