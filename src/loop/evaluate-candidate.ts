/**
 * The promotion gate's evidence: the current and the candidate version answer the SAME seeded subset
 * of the held-out test split (never mined), and the paired case bootstrap compares them metric by
 * metric; `gateDecision` then applies the primary-gain and safety-margin rules.
 */
import type { InstructionSample, Split } from '../data/types.ts';
import {
  type Comparison,
  compareModels,
  type EvalRecord,
  evaluate,
  type GateDecision,
  type GateOptions,
  type GateRecord,
  gateDecision,
  toEvalRecord,
  toGateRecord,
} from '../eval/index.ts';
import {
  openVersion,
  predictSamples,
  type RunPrediction,
  readSplit,
  type SplitData,
  selectSamples,
} from '../inference/offline/index.ts';

export interface CandidateEvaluation {
  samples: InstructionSample[];
  current: { predictions: RunPrediction[]; record: EvalRecord };
  candidate: { predictions: RunPrediction[]; record: EvalRecord };
  comparison: Comparison;
  decision: GateDecision;
  gate: GateRecord;
}

export interface EvaluateCandidateOptions {
  limit: number;
  seed: number;
  resamples: number;
  threads: number;
  gate: GateOptions;
  /** Predictions of the current version on this exact subset, when already known (experiments). */
  currentPredictions?: RunPrediction[];
  onProgress?: (stage: 'current' | 'candidate', done: number, total: number) => void;
}

/** Predictions of one version on samples of a loaded split. */
export async function predictVersion(
  versionDir: string,
  dataDir: string,
  data: SplitData,
  samples: readonly InstructionSample[],
  threads: number,
  onProgress?: (done: number, total: number) => void,
  imageFrom?: ReadonlyMap<string, string>,
): Promise<RunPrediction[]> {
  const model = await openVersion(versionDir, { threads });
  try {
    return await predictSamples(model, dataDir, data.cases, samples, {
      batchSize: 32,
      onProgress,
      imageFrom,
    });
  } finally {
    await model.close();
  }
}

/** A seeded subset of whole cases of one split (the gate and the ablation read the test split). */
export async function splitSubset(dataDir: string, split: Split, limit: number, seed: number) {
  const data = await readSplit(dataDir, split);
  return { data, samples: selectSamples(data.samples, limit, seed) };
}

export function testSubset(dataDir: string, limit: number, seed: number) {
  return splitSubset(dataDir, 'test', limit, seed);
}

export async function evaluateCandidate(
  currentDir: string,
  candidateDir: string,
  dataDir: string,
  o: EvaluateCandidateOptions,
): Promise<CandidateEvaluation> {
  const { data, samples } = await testSubset(dataDir, o.limit, o.seed);
  const current =
    o.currentPredictions ??
    (await predictVersion(currentDir, dataDir, data, samples, o.threads, (d, t) =>
      o.onProgress?.('current', d, t),
    ));
  const candidate = await predictVersion(candidateDir, dataDir, data, samples, o.threads, (d, t) =>
    o.onProgress?.('candidate', d, t),
  );
  const evalOptions = { cases: data.cases, seed: o.seed, resamples: o.resamples };
  const comparison = compareModels(samples, current, candidate, evalOptions);
  const decision = gateDecision(comparison, o.gate);
  return {
    samples,
    current: { predictions: current, record: toEvalRecord(evaluate(samples, current, evalOptions)) },
    candidate: { predictions: candidate, record: toEvalRecord(evaluate(samples, candidate, evalOptions)) },
    comparison,
    decision,
    gate: toGateRecord(comparison, decision),
  };
}
