import assert from 'node:assert/strict';
import { test } from 'node:test';
import { balanceByPrompt, synthesizeInstructions } from '../../src/data/instructions/index.ts';
import { sampleCase } from '../../src/data/phantom/index.ts';
import { Rng } from '../../src/data/random.ts';
import type { InstructionSample } from '../../src/data/types.ts';
import { fitQuestionOnly, questionOnlyPredictions } from '../../src/eval/baselines.ts';
import { evaluate } from '../../src/eval/metrics.ts';
import { contrastToClutter } from '../../src/eval/visibility.ts';
import { derangement } from '../../src/inference/offline/run.ts';

const cases = Array.from({ length: 900 }, (_, i) => sampleCase(50_000 + i));
const drawn = cases.flatMap((c) => synthesizeInstructions(c, Rng.derive(7, c.id)));
const trainIds = new Set(cases.slice(0, 600).map((c) => c.id));
const split = (samples: readonly InstructionSample[], train: boolean) =>
  samples.filter((s) => trainIds.has(s.case_id) === train);

function blindScore(
  trainSamples: InstructionSample[],
  testSamples: InstructionSample[],
  metric: string,
): number {
  const baseline = fitQuestionOnly(trainSamples, cases.slice(0, 600));
  const result = evaluate(testSamples, questionOnlyPredictions(baseline, testSamples), {
    cases: cases.slice(600),
    resamples: 0,
  });
  return result.metrics[metric].value;
}

test('the question-only control exploits unbalanced wording and falls to chance on the balanced set', () => {
  const balanced = balanceByPrompt(drawn, new Rng(1)).samples;
  // Before balancing, presence questions over-ask findings that are present: the wording carries the answer.
  const unbalancedChoice = blindScore(split(drawn, true), split(drawn, false), 'task.choice');
  const balancedChoice = blindScore(split(balanced, true), split(balanced, false), 'task.choice');
  const balancedClosed = blindScore(split(balanced, true), split(balanced, false), 'task.closed');
  assert.ok(balancedChoice < unbalancedChoice - 0.1, `choice ${unbalancedChoice} → ${balancedChoice}`);
  assert.ok(balancedClosed > 0.4 && balancedClosed < 0.6, `closed ${balancedClosed}`);
  assert.ok(balancedChoice < 0.45, `choice ${balancedChoice} (three answers: chance 1/3)`);
});

test('recall at 10% false positives reads the loosest P(yes) threshold that keeps FPR ≤ 0.1', () => {
  // Ten negatives with P(yes) 0.05…0.95 and ten positives; one negative above 0.9 is the 10% allowed.
  const samples: InstructionSample[] = [];
  const predictions = [];
  const pyes = (k: number) => 0.05 + 0.1 * k;
  const positivesP = [0.99, 0.97, 0.93, 0.91, 0.85, 0.75, 0.65, 0.45, 0.25, 0.15];
  for (let k = 0; k < 20; k++) {
    const present = k >= 10;
    const p = present ? positivesP[k - 10] : pyes(k);
    const id = `c${k}/closed/0`;
    samples.push({
      id,
      case_id: `c${k}`,
      task: 'closed',
      question: 'Is there a nodule?',
      answer: present ? 'yes' : 'no',
      rationale: '',
      target_text: present ? 'yes' : 'no',
      finding: 'nodule',
      template: 'closed.1',
    });
    const said = p >= 0.5 ? 'yes' : 'no';
    const conf = said === 'yes' ? p : 1 - p;
    predictions.push({ sample_id: id, text: `${said}.`, answer_prob: conf, min_prob: conf, mean_logprob: 0 });
  }
  const m = evaluate(samples, predictions, { resamples: 0 }).metrics['closed_recall_at_fpr10.nodule'];
  // Thresholds down to 0.9 admit one negative (0.95): positives above 0.9 are 0.99, 0.97, 0.93, 0.91.
  assert.equal(m.value, 0.4);
});

test('permuted images: every case gets another case’s image, each image used once', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `case-${i}`);
  const map = derangement(ids, 3);
  assert.equal(map.size, ids.length);
  for (const [from, to] of map) assert.notEqual(from, to);
  assert.deepEqual([...map.values()].sort(), [...ids].sort());
});

test('visibility: a mass stands far above local clutter at 128 px, a rib fracture does not', () => {
  const patients = [sampleCase(910_001), sampleCase(910_002)];
  for (const c of patients) {
    const mass = contrastToClutter(c, 'mass', 256, 128);
    const rib = contrastToClutter(c, 'rib_fracture', 256, 128);
    assert.ok(mass > 2, `mass ${mass}`);
    assert.ok(rib < 1, `rib fracture ${rib}`);
  }
});
