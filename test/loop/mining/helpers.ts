/** Hand-made ScoredSamples for the mining tests (no model involved). */
import type { FindingKey, TaskType } from '../../../src/data/types.ts';
import type { ScoredSample } from '../../../src/loop/types.ts';

export interface FakeSample {
  id: string;
  task?: TaskType;
  finding?: FindingKey;
  caseId?: string;
  correct?: boolean;
  confidence?: number;
  embedding?: Float32Array;
}

export function fakeScored(f: FakeSample): ScoredSample {
  const task = f.task ?? 'closed';
  const confidence = f.confidence ?? 0.9;
  const correct = f.correct ?? true;
  const caseId = f.caseId ?? `case-${f.id}`;
  return {
    sample: {
      id: f.id,
      case_id: caseId,
      task,
      question: `question ${f.id}`,
      answer: 'yes',
      rationale: '',
      target_text: 'yes.',
      template: 'test',
      ...(f.finding ? { finding: f.finding } : {}),
    },
    case: { id: caseId, findings: [], images: {} },
    prediction: {
      sample_id: f.id,
      task,
      text: correct ? 'yes.' : 'no.',
      answer_prob: confidence,
      min_prob: confidence,
      mean_logprob: Math.log(confidence),
      ood: 0,
      unknown_word_rate: 0,
      stop: 'eos',
    },
    score: correct ? 1 : 0,
    correct,
    confidence,
    embedding: f.embedding ?? new Float32Array([1, 0]),
  };
}

/** A unit vector in `dim` dimensions at cosine distance `d` from the first axis (tilted toward axis `toward`). */
export function atDistance(d: number, dim: number, toward = 1): Float32Array {
  const v = new Float32Array(dim);
  const cos = 1 - d;
  v[0] = cos;
  v[toward] = Math.sqrt(Math.max(0, 1 - cos * cos));
  return v;
}
