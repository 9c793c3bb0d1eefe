/**
 * The token-level hardness criterion: a sample is hard when the current model answers it wrongly,
 * or answers it with a confidence below its task's threshold (right, but unsure — the answers a
 * small push of the weights would flip).
 *
 * Which confidence, per task (read from what `predictSamples` returns, see
 * src/inference/confidence.ts) — `answer_prob` for every task, measured against the alternatives:
 * - closed, choice, open: the probability of exactly the short-answer span (the yes/no token, the
 *   option, the attribute value); the rationale after it is not the answer.
 * - report: `answer_prob` is already the per-finding sentence confidence — the product over the
 *   weakest finding statement's tokens ("A small left pleural effusion."). A report is as reliable
 *   as its weakest finding claim; the report-wide `min_prob` also fires on connective words that
 *   claim nothing.
 * - abnormality_list: the list span's probability. Its length bias (more findings → lower product)
 *   is a feature here: a longer list has more ways to be imperfect.
 * Measured on v0001 over 2000 synth-10k train samples (AUROC of low confidence as an error detector,
 * answer_prob / min_prob / mean-token probability): closed 0.71 / 0.71 / 0.52, choice 0.75 / 0.75 /
 * 0.58, open 0.71 / 0.68 / 0.56, abnormality_list 0.76 / 0.57 / 0.75, report 0.63 / 0.66 / 0.57
 * (reports' 0.03 gap is within noise at n = 236; lists' min_prob is clearly worse).
 *
 * Pass marks: closed, choice and open score 1/0. Lists and reports score a set F1; one hallucinated
 * or omitted finding is exactly the error preference pairs are built to fix (negation, absent
 * co-occurring finding), so they pass only when perfect (F1 = 1). Overridable per task.
 */
import type { TaskType } from '../../data/types.ts';
import type { RunPrediction } from '../../inference/offline/index.ts';
import type { HardReason, ScoredSample } from '../types.ts';

export type ConfidenceSource = 'answer_prob' | 'min_prob';
export type TaskRecord<T> = Record<TaskType, T>;

export const MINING_TASKS: readonly TaskType[] = ['closed', 'choice', 'open', 'abnormality_list', 'report'];

export const CONFIDENCE_SOURCE: Readonly<TaskRecord<ConfidenceSource>> = {
  closed: 'answer_prob',
  choice: 'answer_prob',
  open: 'answer_prob',
  abnormality_list: 'answer_prob',
  report: 'answer_prob',
};

export const PASS_MARKS: Readonly<TaskRecord<number>> = {
  closed: 1,
  choice: 1,
  open: 1,
  abnormality_list: 1,
  report: 1,
};

/** Confidence thresholds per task: an answer below its task's threshold is "unsure". */
export type Thresholds = TaskRecord<number>;

/**
 * Used when a task has too little data for `chooseThresholds`. A binary answer below 0.6 is within
 * 0.1 of a coin flip; a value/option/list/report span below 0.5 is more likely another string than
 * this one.
 */
export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = {
  closed: 0.6,
  choice: 0.5,
  open: 0.5,
  abnormality_list: 0.5,
  report: 0.5,
};

/** The confidence the criterion reads for a prediction of `task`, in [0, 1]. */
export function confidenceOf(prediction: RunPrediction, task: TaskType = prediction.task): number {
  const value = prediction[CONFIDENCE_SOURCE[task]];
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** Whether a score passes its task's mark (a small tolerance absorbs F1's floating point). */
export function passes(
  task: TaskType,
  score: number,
  passMarks: Readonly<TaskRecord<number>> = PASS_MARKS,
): boolean {
  return score >= passMarks[task] - 1e-9;
}

/** Why a scored sample is hard ('wrong' first), or undefined when it is not. */
export function hardReason(scored: ScoredSample, thresholds: Readonly<Thresholds>): HardReason | undefined {
  if (!scored.correct) return 'wrong';
  if (scored.confidence < thresholds[scored.sample.task]) return 'low_confidence';
  return undefined;
}

/** Wrong, or right with a confidence below the task's threshold. */
export function isHard(scored: ScoredSample, thresholds: Readonly<Thresholds>): boolean {
  return hardReason(scored, thresholds) !== undefined;
}
