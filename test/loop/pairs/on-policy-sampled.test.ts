/** On-policy pairs from sampled answers, and unfixable samples keeping only image counterfactuals (no model involved). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { draftsFor, pairsFor } from '../../../src/loop/pairs/index.ts';
import type { Fixable, SelectedSample } from '../../../src/loop/types.ts';
import { PAIR_KINDS } from '../../../src/store/contract.ts';
import { corpus, selected } from './fixtures.ts';

const items = corpus(30);
const TEXT_KINDS = PAIR_KINDS.filter((k) => k !== 'on_policy' && k !== 'image_counterfactual');

/** Samples with a synthetic wrong answer the scorer reads (what a wrong sampled answer looks like). */
const withWrong = items
  .map(({ c, sample }) => ({
    c,
    sample,
    wrong: draftsFor(selected(c, sample), { seed: 1, kinds: TEXT_KINDS })[0],
  }))
  .filter((x) => x.wrong !== undefined)
  .slice(0, 120);

function withSamples(s: SelectedSample, samples: string[], fixable?: Fixable): SelectedSample {
  return { ...s, scored: { ...s.scored, samples, ...(fixable ? { fixable } : {}) } };
}

test('a wrong, readable sampled answer becomes the on-policy pair when the greedy answer is right', () => {
  assert.ok(withWrong.length > 50, `${withWrong.length}`);
  for (const { c, sample, wrong } of withWrong) {
    const right = selected(c, sample);
    const s = withSamples(right, ['', 'I cannot tell.', sample.target_text, wrong!.rejected, 'no.']);
    const [first] = draftsFor(s, { seed: 1, kinds: ['on_policy'] });
    assert.equal(first?.generator, `on_policy.${sample.task}.sampled`, sample.id);
    // The first usable one in draw order: empty, unreadable and right answers are skipped.
    assert.equal(first.rejected, wrong!.rejected.trim());
    const pairs = pairsFor(s, { seed: 1 });
    assert.equal(pairs[0].kind, 'on_policy');
    assert.equal(pairs[0].provenance.generator, `on_policy.${sample.task}.sampled`);
    // Without the samples there is no on-policy pair (today's behaviour).
    assert.equal(draftsFor(right, { seed: 1, kinds: ['on_policy'] }).length, 0);
  }
});

test('the greedy answer goes first; samples that are all right or unreadable add nothing', () => {
  for (const { c, sample, wrong } of withWrong) {
    const greedyWrong = withSamples(selected(c, sample, wrong!.rejected), [sample.target_text]);
    const [d] = draftsFor(greedyWrong, { seed: 1, kinds: ['on_policy'] });
    assert.equal(d.generator, `on_policy.${sample.task}`);
    assert.equal(d.rejected, wrong!.rejected);
    const none = withSamples(selected(c, sample), [sample.target_text, 'I cannot tell.', '  ']);
    assert.equal(draftsFor(none, { seed: 1, kinds: ['on_policy'] }).length, 0, sample.id);
  }
  // A prompt that did not fit gets no on-policy pair whatever its samples say.
  const { c, sample, wrong } = withWrong[0];
  const s = withSamples(selected(c, sample), [wrong!.rejected]);
  s.scored.prediction = { ...s.scored.prediction, prompt_too_long: true };
  assert.equal(draftsFor(s, { seed: 1, kinds: ['on_policy'] }).length, 0);
});

test('prior-driven samples keep image counterfactuals only, invisible ones nothing; yes and unmarked behave as before', () => {
  let counterfactuals = 0;
  for (const { c, sample, wrong } of withWrong) {
    const base = selected(c, sample, wrong!.rejected);
    const before = draftsFor(base, { seed: 2 });
    assert.ok(before.some((d) => d.kind === 'on_policy'));
    assert.deepEqual(
      draftsFor(withSamples(base, [], 'yes'), { seed: 2 }),
      draftsFor(withSamples(base, []), { seed: 2 }),
    );
    assert.deepEqual(draftsFor(withSamples(base, [], 'invisible'), { seed: 2 }), []);
    const after = draftsFor(withSamples(base, [], 'prior_driven'), { seed: 2 });
    assert.ok(
      after.every((d) => d.kind === 'image_counterfactual'),
      after.map((d) => d.kind).join(),
    );
    // Exactly the image counterfactual drafted before survives (same seeded stream).
    assert.deepEqual(
      after,
      before.filter((d) => d.kind === 'image_counterfactual'),
    );
    counterfactuals += after.length;
  }
  assert.ok(counterfactuals > 10, `${counterfactuals} image counterfactuals kept`);
});
