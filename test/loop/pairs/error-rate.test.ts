/** Rule-made pairs weighted by how often the model itself makes their error (no model involved). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopConfigError, resolveLoopConfig } from '../../../src/loop/config.ts';
import { modelErrorRate } from '../../../src/loop/pairs/error-rate.ts';
import { draftsFor, PairsError, pairsFor } from '../../../src/loop/pairs/index.ts';
import type { SelectedSample } from '../../../src/loop/types.ts';
import { corpus, selected } from './fixtures.ts';

const closed = corpus(20)
  .filter(({ sample }) => sample.task === 'closed')
  .map(({ c, sample }) => ({
    s: selected(c, sample),
    negation: draftsFor(selected(c, sample), { seed: 1, kinds: ['negation'] })[0],
  }))
  .filter((x) => x.negation !== undefined)
  .slice(0, 40);

const withSamples = (s: SelectedSample, samples: string[]): SelectedSample => ({
  ...s,
  scored: { ...s.scored, samples },
});

test('the error rate is the share of the greedy and sampled answers that state the rejected answer', () => {
  assert.ok(closed.length > 10, `${closed.length}`);
  for (const { s, negation } of closed) {
    const right = s.scored.sample.target_text;
    const wrong = negation!.rejected;
    // Greedy right, 1 of 3 samples says the wrong answer (other casing and punctuation): 1 of 4.
    const rate = modelErrorRate(withSamples(s, [right, wrong.toUpperCase(), right]), wrong);
    assert.equal(rate, 0.25, s.scored.sample.id);
    assert.equal(modelErrorRate(withSamples(s, [right, right]), wrong), 0);
    assert.equal(modelErrorRate(s, wrong), undefined, 'no sampled answers: nothing to estimate from');
  }
});

test('with a floor, a rule-made pair the model never makes weighs the floor share; on-policy pairs keep theirs', () => {
  for (const { s, negation } of closed) {
    const right = s.scored.sample.target_text;
    const wrong = negation!.rejected;
    const options = { seed: 1, kinds: ['negation' as const], maxPerSample: 1 };
    const base = pairsFor(withSamples(s, [right, right, right]), options)[0].weight;
    const never = pairsFor(withSamples(s, [right, right, right]), { ...options, errorRateFloor: 0.2 })[0];
    assert.ok(Math.abs(never.weight - 0.2 * base) < 1e-12, `${never.weight} vs ${base}`);
    const always = pairsFor(withSamples(s, [wrong, wrong, wrong]), { ...options, errorRateFloor: 0.2 })[0];
    assert.ok(
      Math.abs(always.weight - (0.2 + 0.8 * 0.75) * base) < 1e-12,
      'greedy right, 3 of 3 samples wrong',
    );
    // The model's own wrong answer is its error by definition: its weight is not scaled.
    const onPolicy = pairsFor(withSamples(s, [wrong]), {
      seed: 1,
      kinds: ['on_policy'],
      errorRateFloor: 0.2,
    })[0];
    assert.equal(onPolicy.kind, 'on_policy');
    assert.equal(
      onPolicy.weight,
      pairsFor(withSamples(s, [wrong]), { seed: 1, kinds: ['on_policy'] })[0].weight,
    );
  }
});

test('a floor outside [0, 1] is a typed error', () => {
  const { s } = closed[0];
  assert.throws(
    () => pairsFor(s, { seed: 1, errorRateFloor: 1.5 }),
    (e) => e instanceof PairsError,
  );
});

test('the loop configuration takes the floor and refuses one outside [0, 1]', () => {
  const c = resolveLoopConfig({ pairs: { errorRateFloor: 0.3 } });
  assert.equal(c.pairs.errorRateFloor, 0.3);
  assert.equal(c.pairs.maxPerSample, resolveLoopConfig().pairs.maxPerSample, 'other pair settings stay');
  assert.equal(resolveLoopConfig().pairs.errorRateFloor, undefined, 'off unless asked for');
  assert.throws(() => resolveLoopConfig({ pairs: { errorRateFloor: -0.1 } }), LoopConfigError);
});
