import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FindingKey, LabelledCase } from '../../src/data/types.ts';
import { EvaluationError, evaluate } from '../../src/eval/index.ts';
import { noisyPredictions, phantomSet, predict, sample } from './fixtures.ts';

/**
 * Two cases, hand-scored:
 *  A: effusion present; cardiomegaly absent (co-occurs with effusion: adversarial); pneumothorax absent (random).
 *  B: nodule present; mass absent (confusable with nodule: adversarial); edema absent (random).
 */
const cases: LabelledCase[] = [
  {
    id: 'A',
    findings: [
      { name: 'pleural_effusion', present: true, side: 'left' },
      { name: 'cardiomegaly', present: false },
      { name: 'pneumothorax', present: false },
    ],
  },
  {
    id: 'B',
    findings: [
      { name: 'nodule', present: true },
      { name: 'mass', present: false },
      { name: 'edema', present: false },
    ],
  },
];
const closed = (c: string, finding: FindingKey, answer: string) =>
  sample(c, 'closed', answer, { finding, attribute: 'presence' });
const s = {
  c1: closed('A', 'pleural_effusion', 'yes'),
  c2: closed('A', 'cardiomegaly', 'no'),
  c3: closed('A', 'pneumothorax', 'no'),
  c4: closed('B', 'nodule', 'yes'),
  c5: closed('B', 'mass', 'no'),
  c6: closed('B', 'edema', 'no'),
  h1: sample('A', 'choice', 'left', {
    finding: 'pleural_effusion',
    attribute: 'side',
    options: ['left', 'right'],
  }),
  h2: sample('B', 'choice', 'nodule', {
    finding: 'nodule',
    attribute: 'finding',
    options: ['nodule', 'mass'],
  }),
  rA: sample('A', 'report', 'FINDINGS: Small left pleural effusion. Heart size is normal. No pneumothorax.'),
  rB: sample('B', 'report', 'FINDINGS: Nodule measuring 8 mm. No mass. No pulmonary edema.'),
};
const predictions = [
  predict(s.c1, 'yes. r', 0.9), //  right, bin 13
  predict(s.c2, 'yes. r', 0.7), //  hallucination (adversarial), bin 10
  predict(s.c3, 'no. r', 0.8), //   right, bin 12
  predict(s.c4, 'no. r', 0.62), //  omission, bin 9
  predict(s.c5, 'no. r', 0.95), //  right (adversarial negative), bin 14
  predict(s.c6, 'no. r', 0.85), //  right, bin 12
  predict(s.h1, 'left. r', 0.65), // right, bin 9
  predict(s.h2, 'mass. r', 0.75), // wrong, bin 11
  // TP effusion, TN cardiomegaly, FP pneumothorax.
  predict(
    s.rA,
    'FINDINGS: There is a small left pleural effusion. Heart size is normal. There is a right pneumothorax.',
  ),
  // FN nodule, TN mass, TN edema.
  predict(s.rB, 'FINDINGS: No nodule. No mass. No pulmonary edema.'),
];
const samples = Object.values(s);

test('hand-built predictions give the hand-computed metrics', () => {
  const r = evaluate(samples, predictions, { cases, resamples: 0 });
  const v = (name: string) => r.metrics[name]?.value;
  const close = (name: string, expected: number) =>
    assert.ok(
      Math.abs((v(name) ?? Number.NaN) - expected) < 1e-12,
      `${name} = ${v(name)}, expected ${expected}`,
    );
  assert.equal(r.n_samples, 10);
  assert.equal(r.n_cases, 2);
  close('task.closed', 4 / 6);
  close('task.choice', 1 / 2);
  close('task.report', 1 / 2); // micro F1: TP 1, FP 1, FN 1
  close('report.macro_f1', 1 / 3); // effusion 1, pneumothorax 0, nodule 0; others undefined
  close('primary', (4 / 6 + 1 / 2 + 1 / 2) / 3);
  close('hallucination.closed', 1 / 4);
  close('hallucination.report', 1 / 4);
  close('hallucination.rate', 2 / 8);
  close('hallucination.pneumothorax', 1 / 2);
  close('hallucination.cardiomegaly', 1 / 2);
  close('omission.rate', 2 / 4);
  close('omission.nodule', 1);
  close('finding_accuracy.pleural_effusion', 1);
  close('finding_accuracy.nodule', 0);
  close('finding_accuracy.pneumothorax', 1 / 2);
  close('accuracy.closed.nodule', 0);
  close('accuracy.report.pneumothorax', 0);
  close('pope.adversarial_yes_ratio', 1 / 2);
  close('pope.random_yes_ratio', 0);
  close('pope.absent_yes_ratio', 1 / 4);
  close('pope.yes_ratio', 2 / 6);
  close('pope.precision', 1 / 2);
  close('pope.recall', 1 / 2);
  // Bins 9: {.62 ✗, .65 ✓} → |1 − 1.27|; 10: |0 − .7|; 11: |0 − .75|; 12: |2 − 1.65|; 13: |1 − .9|; 14: |1 − .95|.
  close('ece', (0.27 + 0.7 + 0.75 + 0.35 + 0.1 + 0.05) / 8);
  const bin12 = r.reliability[12];
  assert.equal(bin12.count, 2);
  assert.ok(Math.abs(bin12.mean_confidence - 0.825) < 1e-12 && bin12.accuracy === 1);
  assert.equal(v('task.open'), undefined, 'metrics without support are left out');
});

test('truth read back from the references equals the phantom labels', () => {
  const { cases: phantoms, samples: ps } = phantomSet(30);
  const preds = noisyPredictions(ps, () => 0.3, 5);
  const withCases = evaluate(ps, preds, { cases: phantoms, resamples: 0 });
  const withoutCases = evaluate(ps, preds, { resamples: 0 });
  assert.deepEqual(withoutCases.metrics, withCases.metrics);
  const perfect = evaluate(
    ps,
    ps.map((x) => predict(x, x.target_text)),
    { cases: phantoms, resamples: 0 },
  );
  for (const [name, m] of Object.entries(perfect.metrics)) {
    if (name.startsWith('hallucination') || name.startsWith('omission')) assert.equal(m.value, 0, name);
    else if (name.startsWith('task.') || name.startsWith('accuracy.') || name === 'primary')
      assert.equal(m.value, 1, name);
  }
});

test('case-bootstrap intervals contain the estimate, reproduce by seed and shrink with more cases', () => {
  const rate = () => 0.25;
  const small = phantomSet(30);
  const large = phantomSet(300, 1000);
  const rs = evaluate(small.samples, noisyPredictions(small.samples, rate, 1), {
    cases: small.cases,
    resamples: 300,
    seed: 3,
  });
  const rl = evaluate(large.samples, noisyPredictions(large.samples, rate, 1), {
    cases: large.cases,
    resamples: 300,
    seed: 3,
  });
  for (const name of ['primary', 'task.closed', 'hallucination.rate', 'omission.rate', 'ece']) {
    for (const r of [rs, rl]) {
      const m = r.metrics[name];
      assert.ok(m.lo <= m.value && m.value <= m.hi, `${name}: ${m.value} in [${m.lo}, ${m.hi}]`);
    }
    const width = (r: typeof rs) => r.metrics[name].hi - r.metrics[name].lo;
    // 10× the cases: about 1/√10 ≈ 0.32 of the width.
    assert.ok(width(rl) < 0.6 * width(rs), `${name}: ${width(rl)} vs ${width(rs)}`);
  }
  const again = evaluate(small.samples, noisyPredictions(small.samples, rate, 1), {
    cases: small.cases,
    resamples: 300,
    seed: 3,
  });
  assert.deepEqual(again.metrics, rs.metrics);
  const otherSeed = evaluate(small.samples, noisyPredictions(small.samples, rate, 1), {
    cases: small.cases,
    resamples: 300,
    seed: 4,
  });
  assert.notEqual(otherSeed.metrics.primary.lo, rs.metrics.primary.lo);
});

test('mismatched predictions are coded errors', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof EvaluationError);
      return e.code;
    }
    return 'no error';
  };
  assert.equal(
    code(() => evaluate(samples, predictions.slice(1))),
    'CHEXPO_ERR_EVAL_MISSING_PREDICTION',
  );
  assert.equal(
    code(() => evaluate(samples, [...predictions, predictions[0]])),
    'CHEXPO_ERR_EVAL_DUPLICATE_PREDICTION',
  );
  assert.equal(
    code(() => evaluate(samples.slice(1), predictions)),
    'CHEXPO_ERR_EVAL_UNKNOWN_SAMPLE',
  );
  assert.equal(
    code(() => evaluate([], [])),
    'CHEXPO_ERR_EVAL_EMPTY',
  );
  assert.equal(
    code(() => evaluate(samples, predictions, { bins: 0 })),
    'CHEXPO_ERR_EVAL_BAD_OPTION',
  );
});
