import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/data/random.ts';
import type { TaskType } from '../../src/data/types.ts';
import {
  EvaluationError,
  RiskCalibrator,
  type RiskExample,
  riskExamples,
  riskQuality,
  scorePrediction,
  unknownWordRate,
} from '../../src/eval/index.ts';
import { predict, sample } from './fixtures.ts';

const TASKS: TaskType[] = ['closed', 'choice', 'open'];

/** P(wrong) is a known function of confidence: 1 − c² (over-confident model), plus an OOD bump. */
function synthetic(n: number, seed: number, oodMatters: boolean): RiskExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const c = rng.uniform(0.3, 1);
    const ood = rng.bool(0.2) ? 1 : 0;
    const pWrong = Math.min(1, 1 - c * c + (oodMatters ? 0.3 * ood : 0));
    const minProb = c * rng.uniform(0.7, 1);
    return {
      answer_prob: c,
      min_prob: minProb,
      mean_logprob: Math.log(c) / 3,
      task: rng.pick(TASKS),
      ood_score: ood,
      unknown_word_rate: rng.uniform(0, 0.2),
      wrong: rng.bool(pWrong) ? 1 : 0,
    };
  });
}

test('fitted risk is calibrated on held-out data, tracks the true P(wrong), and is monotone in confidence', () => {
  const calibrator = RiskCalibrator.fit(synthetic(4000, 1, false));
  const held = synthetic(4000, 2, false);
  const q = riskQuality(calibrator, held);
  assert.ok(q.ece < 0.03, `ECE of risk ${q.ece}`);
  // A constant predictor (the base rate) scores worse than the fit.
  const base = held.reduce((s, e) => s + e.wrong, 0) / held.length;
  const baseBrier = held.reduce((s, e) => s + (base - e.wrong) ** 2, 0) / held.length;
  assert.ok(q.brier < baseBrier - 0.02, `${q.brier} vs base ${baseBrier}`);
  let previous = Number.POSITIVE_INFINITY;
  for (let c = 0.3; c <= 1.0001; c += 0.05) {
    const risk = calibrator.predictRisk({
      answer_prob: c,
      min_prob: 0.85 * c,
      mean_logprob: Math.log(c) / 3,
      task: 'closed',
    });
    assert.ok(risk < previous, `risk must fall as confidence rises (c = ${c.toFixed(2)})`);
    assert.ok(Math.abs(risk - (1 - c * c)) < 0.08, `c = ${c.toFixed(2)}: risk ${risk} vs true ${1 - c * c}`);
    previous = risk;
  }
});

test('an informative OOD score raises risk; an uninformative one gets a small weight', () => {
  const informed = RiskCalibrator.fit(synthetic(4000, 3, true));
  const blind = RiskCalibrator.fit(synthetic(4000, 3, false));
  assert.ok(informed.weights().ood_score > 0.3, JSON.stringify(informed.weights()));
  assert.ok(Math.abs(blind.weights().ood_score) < 0.1, JSON.stringify(blind.weights()));
  const f = { answer_prob: 0.8, min_prob: 0.7, mean_logprob: -0.1, task: 'open' as const };
  assert.ok(
    informed.predictRisk({ ...f, ood_score: 1 }) > informed.predictRisk({ ...f, ood_score: 0 }) + 0.1,
  );
});

test('the calibrator round-trips through JSON and rejects a foreign one', () => {
  const calibrator = RiskCalibrator.fit(synthetic(500, 4, false));
  const copy = RiskCalibrator.fromJSON(JSON.parse(JSON.stringify(calibrator)));
  for (const e of synthetic(50, 5, false)) assert.equal(copy.predictRisk(e), calibrator.predictRisk(e));
  const json = calibrator.toJSON();
  assert.throws(() => RiskCalibrator.fromJSON({ ...json, schema: 'other' }), EvaluationError);
  assert.throws(() => RiskCalibrator.fromJSON({ ...json, weights: json.weights.slice(1) }), EvaluationError);
  assert.throws(() => RiskCalibrator.fit([]), EvaluationError);
});

test('training rows come from scored predictions; unknown-word rate counts question words', () => {
  const s = sample('c', 'closed', 'yes', { finding: 'nodule', attribute: 'presence' });
  const p = predict(s, 'no. r', 0.7);
  const rows = riskExamples([scorePrediction(s, p)], [p], () => ({ ood_score: 0.5 }));
  assert.deepEqual(rows, [
    {
      answer_prob: 0.7,
      min_prob: 0.7,
      mean_logprob: Math.log(0.7),
      task: 'closed',
      ood_score: 0.5,
      wrong: 1,
    },
  ]);
  const vocab = new Set(['is', 'there', 'a', 'nodule']);
  assert.equal(
    unknownWordRate('Is there a granuloma?', (w) => vocab.has(w)),
    0.25,
  );
  assert.equal(
    unknownWordRate('', (w) => vocab.has(w)),
    0,
  );
});
