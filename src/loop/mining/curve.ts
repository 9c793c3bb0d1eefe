/**
 * Error rate against confidence, per task: the evidence behind the thresholds. Bins hold equal
 * counts (a fixed-width histogram would leave the low-confidence bins, the ones that matter, with a
 * handful of samples), and never split a run of equal confidences, so a bin edge is a confidence
 * every sample of the lower bins is strictly below.
 */
import type { TaskType } from '../../data/types.ts';
import type { ScoredSample } from '../types.ts';
import { MINING_TASKS } from './criterion.ts';
import { MiningError } from './errors.ts';

export interface CurveBin {
  /** Lowest and highest confidence in the bin. */
  lo: number;
  hi: number;
  count: number;
  errors: number;
  meanConfidence: number;
  errorRate: number;
}

export interface TaskCurve {
  task: TaskType;
  n: number;
  errors: number;
  errorRate: number;
  /** Ascending confidence. */
  bins: CurveBin[];
  /** P(an error's confidence < a correct answer's confidence); 0.5 = confidence says nothing. */
  auroc: number;
}

export type ConfidenceCurve = Partial<Record<TaskType, TaskCurve>>;

export interface CurveOptions {
  /** Bins per task (default 10). */
  bins?: number;
  /** Fewer bins when a task has fewer than bins × this many samples (default 20). */
  minPerBin?: number;
}

/** Equal-count bins of (confidence, wrong) pairs sorted by confidence; ties stay in one bin. */
function equalCountBins(points: readonly { c: number; wrong: boolean }[], bins: number): CurveBin[] {
  const out: CurveBin[] = [];
  let start = 0;
  for (let b = 1; b <= bins && start < points.length; b++) {
    let end = b === bins ? points.length : Math.round((b * points.length) / bins);
    if (end <= start) continue;
    while (end < points.length && points[end].c === points[end - 1].c) end++;
    let errors = 0;
    let sum = 0;
    for (let i = start; i < end; i++) {
      if (points[i].wrong) errors++;
      sum += points[i].c;
    }
    const count = end - start;
    out.push({
      lo: points[start].c,
      hi: points[end - 1].c,
      count,
      errors,
      meanConfidence: sum / count,
      errorRate: errors / count,
    });
    start = end;
  }
  return out;
}

/**
 * Mann–Whitney AUROC of "low confidence" as a detector of errors: the share of (wrong, right) pairs
 * where the wrong answer had the lower confidence, ties counting half. 0.5 when one class is empty.
 */
export function errorAuroc(points: readonly { confidence: number; wrong: boolean }[]): number {
  const sorted = [...points].sort((a, b) => a.confidence - b.confidence);
  const wrong = sorted.filter((p) => p.wrong).length;
  const right = sorted.length - wrong;
  if (wrong === 0 || right === 0) return 0.5;
  // Rank sum of the right answers (average ranks over ties), then U = pairs where right > wrong.
  let rankSumRight = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j].confidence === sorted[i].confidence) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (!sorted[k].wrong) rankSumRight += averageRank;
    i = j;
  }
  return (rankSumRight - (right * (right + 1)) / 2) / (right * wrong);
}

export function confidenceCurve(
  scored: readonly ScoredSample[],
  options: CurveOptions = {},
): ConfidenceCurve {
  const bins = options.bins ?? 10;
  const minPerBin = options.minPerBin ?? 20;
  if (!Number.isInteger(bins) || bins < 1)
    throw new MiningError('BAD_OPTION', `bins must be a whole number ≥ 1: ${bins}`);
  if (!Number.isInteger(minPerBin) || minPerBin < 1)
    throw new MiningError('BAD_OPTION', `minPerBin must be a whole number ≥ 1: ${minPerBin}`);
  const curve: ConfidenceCurve = {};
  for (const task of MINING_TASKS) {
    const points = scored
      .filter((s) => s.sample.task === task)
      .map((s) => ({ c: s.confidence, wrong: !s.correct }))
      .sort((a, b) => a.c - b.c);
    if (points.length === 0) continue;
    const errors = points.filter((p) => p.wrong).length;
    curve[task] = {
      task,
      n: points.length,
      errors,
      errorRate: errors / points.length,
      bins: equalCountBins(points, Math.max(1, Math.min(bins, Math.floor(points.length / minPerBin)))),
      auroc: errorAuroc(points.map((p) => ({ confidence: p.c, wrong: p.wrong }))),
    };
  }
  return curve;
}
