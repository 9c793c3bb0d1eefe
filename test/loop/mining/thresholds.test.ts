import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import {
  chooseThresholds,
  confidenceCurve,
  DEFAULT_THRESHOLDS,
  errorAuroc,
} from '../../../src/loop/mining/index.ts';
import type { ScoredSample } from '../../../src/loop/types.ts';
import { confidenceCurveSpec } from '../../../src/plots/mining.ts';
import { type PlotSpec, renderPng } from '../../../src/plots/render.ts';
import { fakeScored } from './helpers.ts';

/**
 * n closed samples with confidence evenly spread over (0, 1): below `edge` 9 in 10 are wrong, above
 * it 1 in 20. Overall error ≈ 0.3 for edge 0.3.
 */
function steppedCurve(n: number, edge: number, task: 'closed' | 'open' = 'closed'): ScoredSample[] {
  return Array.from({ length: n }, (_, i) => {
    const confidence = (i + 0.5) / n;
    const wrong = confidence < edge ? i % 10 !== 0 : i % 20 === 0;
    return fakeScored({ id: `${task}-${i}`, task, confidence, correct: !wrong });
  });
}

test('equal-count bins: counts add up, bins ascend, ties are never split across bins', () => {
  // 300 samples, confidences only 0.2 (100×), 0.5 (150×), 0.9 (50×).
  const scored = [
    ...Array.from({ length: 100 }, (_, i) =>
      fakeScored({ id: `a${i}`, confidence: 0.2, correct: i % 2 === 0 }),
    ),
    ...Array.from({ length: 150 }, (_, i) =>
      fakeScored({ id: `b${i}`, confidence: 0.5, correct: i % 5 !== 0 }),
    ),
    ...Array.from({ length: 50 }, (_, i) => fakeScored({ id: `c${i}`, confidence: 0.9 })),
  ];
  const c = confidenceCurve(scored, { bins: 10, minPerBin: 5 }).closed!;
  assert.equal(c.n, 300);
  assert.equal(
    c.bins.reduce((s, b) => s + b.count, 0),
    300,
  );
  assert.deepEqual(
    c.bins.map((b) => [b.lo, b.hi, b.count]),
    [
      [0.2, 0.2, 100],
      [0.5, 0.5, 150],
      [0.9, 0.9, 50],
    ],
  );
  assert.equal(c.bins[0].errorRate, 0.5);
  assert.equal(c.bins[1].errorRate, 0.2);
  assert.equal(c.errors, 80);
});

test('fewer bins when a task has little data (minPerBin)', () => {
  const c = confidenceCurve(steppedCurve(50, 0.3), { bins: 10, minPerBin: 20 }).closed!;
  assert.equal(c.bins.length, 2);
  assert.equal(confidenceCurve([]).closed, undefined);
});

test('errorAuroc: 1 when every error is less confident, 0 when reversed, 0.5 when confidence is constant', () => {
  const low = [0.1, 0.2, 0.3].map((c) => ({ confidence: c, wrong: true }));
  const high = [0.7, 0.8].map((c) => ({ confidence: c, wrong: false }));
  assert.equal(errorAuroc([...low, ...high]), 1);
  assert.equal(
    errorAuroc([...low.map((p) => ({ ...p, wrong: false })), ...high.map((p) => ({ ...p, wrong: true }))]),
    0,
  );
  assert.equal(errorAuroc([0, 1, 2, 3].map((i) => ({ confidence: 0.5, wrong: i % 2 === 0 }))), 0.5);
  // One inversion among 2 × 2 pairs.
  assert.equal(
    errorAuroc([
      { confidence: 0.1, wrong: true },
      { confidence: 0.6, wrong: true },
      { confidence: 0.5, wrong: false },
      { confidence: 0.9, wrong: false },
    ]),
    0.75,
  );
});

test('chooseThresholds puts the threshold at the top of the high-error, low-confidence region', () => {
  const scored = steppedCurve(1000, 0.3);
  const { thresholds, choices, curve } = chooseThresholds(scored, { bins: 10, factor: 2 });
  const closed = choices.closed;
  assert.equal(closed.source, 'curve');
  // Overall error ≈ 0.305, target 0.61: the cumulative rate is 0.69 below 0.4 and 0.56 below 0.5.
  assert.ok(Math.abs(curve.closed!.errorRate - 0.305) < 0.01, String(curve.closed!.errorRate));
  assert.ok(thresholds.closed > 0.3 && thresholds.closed <= 0.41, String(thresholds.closed));
  assert.ok(closed.errorRateBelow >= 2 * closed.errorRate, JSON.stringify(closed));
  assert.ok(Math.abs(closed.shareBelow - thresholds.closed) < 0.01, JSON.stringify(closed));
  // Tasks without data keep their defaults.
  assert.equal(thresholds.report, DEFAULT_THRESHOLDS.report);
  assert.equal(choices.report.source, 'default');
});

test('the threshold follows the region: a wider error region gives a higher threshold', () => {
  const narrow = chooseThresholds(steppedCurve(1000, 0.2), { factor: 2 }).thresholds.closed;
  const wide = chooseThresholds(steppedCurve(1000, 0.5), { factor: 2 }).thresholds.closed;
  // The cumulative rule may reach a bin or two past the region (where the rate falls to the target).
  assert.ok(narrow > 0.2 && narrow <= 0.41, String(narrow));
  assert.ok(wide > 0.5 && wide <= 0.61, String(wide));
});

test('no separation → the clamp floor; too few samples → the default; high base error uses the halfway target', () => {
  // Errors independent of confidence: every 3rd sample wrong.
  const flat = Array.from({ length: 600 }, (_, i) =>
    fakeScored({ id: `f${i}`, task: 'open', confidence: ((i * 7919) % 600) / 600, correct: i % 3 !== 0 }),
  );
  const r = chooseThresholds(flat, { min: 0.05 });
  assert.equal(r.choices.open.source, 'no_signal');
  assert.equal(r.thresholds.open, 0.05);

  const few = chooseThresholds(steppedCurve(60, 0.3), { minSamples: 100 });
  assert.equal(few.choices.closed.source, 'default');
  assert.equal(few.thresholds.closed, DEFAULT_THRESHOLDS.closed);

  // 80% errors overall: 2× is impossible, the target is 0.9 (halfway to always wrong).
  const weak = Array.from({ length: 1000 }, (_, i) => {
    const confidence = (i + 0.5) / 1000;
    return fakeScored({
      id: `w${i}`,
      task: 'report',
      confidence,
      correct: confidence < 0.3 ? false : i % 10 >= 7,
    });
  });
  const w = chooseThresholds(weak);
  assert.equal(w.choices.report.source, 'curve');
  assert.ok(Math.abs(w.choices.report.target - 0.895) < 0.01, String(w.choices.report.target));
  assert.ok(w.thresholds.report > 0.3 && w.thresholds.report < 0.7, String(w.thresholds.report));
});

test('default factor 1.5 finds a region that doubling misses (lowest tenth: 0.6 errors, base 0.31)', () => {
  const scored = Array.from({ length: 1000 }, (_, i) => {
    const confidence = (i + 0.5) / 1000;
    const wrong = confidence < 0.1 ? i % 5 < 3 : i % 25 < 7;
    return fakeScored({ id: `d${i}`, task: 'choice', confidence, correct: !wrong });
  });
  assert.equal(chooseThresholds(scored, { factor: 2 }).choices.choice.source, 'no_signal');
  const r = chooseThresholds(scored);
  assert.equal(r.choices.choice.source, 'curve');
  assert.ok(Math.abs(r.thresholds.choice - 0.1) < 0.002, String(r.thresholds.choice));
  assert.ok(Math.abs(r.choices.choice.errorRateBelow - 0.6) < 0.01);
});

test('thresholds are clamped to [min, max]', () => {
  // Every sample below 0.99 is wrong: the raw edge would be ~0.99.
  const scored = Array.from({ length: 1000 }, (_, i) => {
    const confidence = (i + 0.5) / 1000;
    return fakeScored({ id: `c${i}`, confidence, correct: confidence >= 0.99 });
  });
  assert.equal(chooseThresholds(scored, { max: 0.9 }).thresholds.closed, 0.9);
  assert.throws(() => chooseThresholds(scored, { factor: 1 }), { code: 'CHEXPO_ERR_MINING_BAD_OPTION' });
});

test('the confidence-curve plot marks the thresholds chooseThresholds picked, and renders to a PNG', async () => {
  const chosen = chooseThresholds(steppedCurve(500, 0.3));
  const spec = confidenceCurveSpec(chosen.curve, chosen.choices) as {
    layer: Array<{ data: { values: Array<{ task: string; threshold: number }> } }>;
  };
  assert.deepEqual(
    spec.layer[1].data.values.map((t) => [t.task, t.threshold]),
    [['closed', chosen.thresholds.closed]],
  );
  const png = PNG.sync.read(Buffer.from(await renderPng(spec as PlotSpec, { scale: 1 })));
  assert.ok(png.width > 500 && png.height > 300, `${png.width}×${png.height}`);
});
