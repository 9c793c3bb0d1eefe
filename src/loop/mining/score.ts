/**
 * Scoring the current model on labelled samples: generate (with confidences), embed each case once,
 * score against the exact labels. The result is what mining, expansion and pairs all read.
 */
import type { InstructionSample } from '../../data/types.ts';
import { scorePrediction, truthFromCases } from '../../eval/index.ts';
import {
  caseFeatures,
  type DataCase,
  type OpenedVersion,
  predictSamples,
} from '../../inference/offline/index.ts';
import type { ScoredSample } from '../types.ts';
import { confidenceOf, PASS_MARKS, passes, type TaskRecord } from './criterion.ts';
import { MiningError } from './errors.ts';

export interface ScoreProgress {
  stage: 'predict' | 'embed';
  done: number;
  total: number;
}

export interface ScoreOptions {
  /** Generation requests per batch (default 16). */
  batchSize?: number;
  /** Token budget per answer (default: the model's maxSeqLen). */
  maxTokens?: number;
  /** Per-task pass marks (default PASS_MARKS). */
  passMarks?: Partial<TaskRecord<number>>;
  onProgress?: (progress: ScoreProgress) => void;
}

/** Embeds every case that has samples, once each; returns the embedding by case id. */
export async function caseEmbeddings(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  samples: readonly InstructionSample[],
  options: { batchSize?: number; onProgress?: (progress: ScoreProgress) => void } = {},
): Promise<Map<string, Float32Array>> {
  const wanted = new Set(samples.map((s) => s.case_id));
  const used = cases.filter((c) => wanted.has(c.id));
  if (used.length !== wanted.size) {
    const known = new Set(used.map((c) => c.id));
    const missing = [...wanted].find((id) => !known.has(id));
    throw new MiningError('BAD_DATA', `no case ${missing} for its samples`);
  }
  const batchSize = options.batchSize ?? 16;
  const out = new Map<string, Float32Array>();
  for (let i = 0; i < used.length; i += batchSize) {
    const batch = used.slice(i, i + batchSize);
    const features = await caseFeatures(model, dataDir, batch, batchSize);
    batch.forEach((c, k) => {
      out.set(c.id, features[k].embedding);
    });
    options.onProgress?.({ stage: 'embed', done: out.size, total: used.length });
  }
  return out;
}

/** The model's answer to every sample, scored, with its confidence and its case's image embedding. */
export async function scoreSamples(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  samples: readonly InstructionSample[],
  options: ScoreOptions = {},
): Promise<ScoredSample[]> {
  const passMarks = { ...PASS_MARKS, ...options.passMarks };
  const predictions = await predictSamples(model, dataDir, cases, samples, {
    batchSize: options.batchSize,
    maxTokens: options.maxTokens,
    onProgress: (done, total) => options.onProgress?.({ stage: 'predict', done, total }),
  });
  const embeddings = await caseEmbeddings(model, dataDir, cases, samples, options);
  const caseById = new Map(cases.map((c) => [c.id, c]));
  const truth = truthFromCases(cases.filter((c) => embeddings.has(c.id)));
  const predictionById = new Map(predictions.map((p) => [p.sample_id, p]));
  return samples.map((sample) => {
    const prediction = predictionById.get(sample.id);
    if (!prediction) throw new MiningError('BAD_DATA', `no prediction for sample ${sample.id}`);
    const { score } = scorePrediction(sample, prediction, truth.get(sample.case_id));
    return {
      sample,
      case: caseById.get(sample.case_id)!,
      prediction,
      score,
      correct: passes(sample.task, score, passMarks),
      confidence: confidenceOf(prediction, sample.task),
      embedding: embeddings.get(sample.case_id)!,
    };
  });
}
