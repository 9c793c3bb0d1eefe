import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitTarget } from '../../../src/data/instructions/target.ts';
import { ARM_NAMES, answerOnly, armKinds, armPairs } from '../../../src/loop/experiment/arms.ts';
import { phantomCase, samplesOf, selected } from '../pairs/fixtures.ts';

const cases = Array.from({ length: 12 }, (_, i) => phantomCase(100 + i));
const selection = cases.flatMap((c) => samplesOf(c).map((s) => selected(c, s)));
const s = { random: selection, confidence: selection, confSim: selection };

test('answer-only arms keep the answer-plus-rationale format: the sides differ only in the answer', () => {
  const pairs = armPairs('dpo_random', s, 3, { maxPerSample: 2 });
  assert.ok(pairs.length > 20, `${pairs.length} pairs`);
  let compared = 0;
  for (const p of pairs) {
    if (p.provenance.task === 'report') continue;
    const c = splitTarget(p.chosen);
    const r = splitTarget(p.rejected);
    assert.equal(r.rationale.toLowerCase(), c.rationale.toLowerCase(), `${p.chosen} | ${p.rejected}`);
    assert.notEqual(r.answer.toLowerCase(), c.answer.toLowerCase());
    compared++;
  }
  assert.ok(compared > 10);
});

test('answerOnly leaves reports alone and never ends the rejected side early', () => {
  const [closed] = armPairs('chexpo', s, 3, { maxPerSample: 2 }).filter(
    (p) => p.provenance.task === 'closed',
  );
  const a = answerOnly(closed);
  assert.ok(a.rejected.length > splitTarget(a.rejected).answer.length + 5, a.rejected);
  const [report] = armPairs('chexpo', s, 3, { maxPerSample: 2 }).filter(
    (p) => p.provenance.task === 'report',
  );
  if (report) assert.deepEqual(answerOnly(report), report);
});

test('the CheXPO arms add kinds cumulatively and only the image arms use image counterfactuals', () => {
  assert.ok(!armKinds('chexpo').includes('on_policy'));
  assert.ok(armKinds('chexpo_on_policy').includes('on_policy'));
  assert.ok(!armKinds('chexpo_on_policy').includes('image_counterfactual'));
  assert.ok(armKinds('chexpo_image_cf').includes('image_counterfactual'));
  assert.deepEqual(armKinds('full_loop'), armKinds('chexpo_image_cf'));
  const kinds = new Set(armPairs('chexpo_image_cf', s, 3, { maxPerSample: 2 }).map((p) => p.kind));
  assert.ok(kinds.has('image_counterfactual'), [...kinds].join(','));
  assert.ok(!armPairs('chexpo', s, 3, { maxPerSample: 2 }).some((p) => p.kind === 'image_counterfactual'));
  assert.ok(ARM_NAMES.includes('sft_continued') && ARM_NAMES.includes('full_loop'));
});

test('the image-only arm builds image counterfactuals alone: same words on both sides, another image', () => {
  const pairs = armPairs('image_cf_only', s, 3, { maxPerSample: 2 });
  assert.ok(pairs.length > 10, `${pairs.length} pairs`);
  for (const p of pairs) {
    assert.equal(p.kind, 'image_counterfactual');
    assert.equal(p.rejected, p.chosen);
    assert.notDeepEqual(p.rejectedImage, p.chosenImage);
  }
});
