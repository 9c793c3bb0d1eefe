import { synthesizeInstructions } from '../../src/data/instructions/index.ts';
import { sampleCase } from '../../src/data/phantom/index.ts';
import { Rng } from '../../src/data/random.ts';
import type { FindingKey, InstructionSample, LabelledCase, TaskType } from '../../src/data/types.ts';
import type { Prediction } from '../../src/eval/index.ts';

let counter = 0;

/** A hand-built sample; target_text follows the "<answer>. <rationale>" format. */
export function sample(
  caseId: string,
  task: TaskType,
  answer: string,
  extra: { finding?: FindingKey; attribute?: string; options?: string[] } = {},
): InstructionSample {
  return {
    id: `${caseId}/${task}/${counter++}`,
    case_id: caseId,
    task,
    question: 'q',
    answer,
    rationale: 'r',
    target_text: task === 'report' ? answer : `${answer}. r`,
    template: `${task}.1`,
    ...extra,
  };
}

export function predict(s: InstructionSample, text: string, answerProb = 0.9): Prediction {
  return {
    sample_id: s.id,
    text,
    answer_prob: answerProb,
    min_prob: answerProb,
    mean_logprob: Math.log(answerProb),
  };
}

/** Phantom cases with their instruction samples (no images rendered). */
export function phantomSet(
  nCases: number,
  firstSeed = 1,
): { cases: LabelledCase[]; samples: InstructionSample[] } {
  const cases = Array.from({ length: nCases }, (_, i) => sampleCase(firstSeed + i));
  const samples = cases.flatMap((c) => synthesizeInstructions(c, Rng.derive(7, c.id)));
  return { cases, samples };
}

/** Flips the yes/no of a closed target, or garbles any other short answer. */
export function wrongText(s: InstructionSample): string {
  if (s.task === 'closed') return s.answer === 'yes' ? 'no. r' : 'yes. r';
  if (s.task === 'report') return 'FINDINGS: There is a large right pneumothorax. IMPRESSION: Pneumothorax.';
  return 'unsure. r';
}

/**
 * Predictions that are wrong with probability `errorRate` per sample (seeded), with a confidence of
 * about 1 − errorRate (calibrated on average, as a well-behaved model would be).
 */
export function noisyPredictions(
  samples: readonly InstructionSample[],
  errorRate: (s: InstructionSample) => number,
  seed: number,
  wrong: (s: InstructionSample) => string = wrongText,
): Prediction[] {
  const rng = Rng.derive(seed, 'noisy');
  return samples.map((s) => {
    const rate = errorRate(s);
    const bad = rng.bool(rate);
    const confidence = Math.min(1, Math.max(0, 1 - rate + rng.uniform(-0.05, 0.05)));
    return predict(s, bad ? wrong(s) : s.target_text, confidence);
  });
}
