/**
 * Data-driven confidence thresholds, one per task, read off the error-vs-confidence curve.
 *
 * Rule: the threshold is the HIGHEST bin edge t such that the samples below t have an error rate of
 * at least `target = min(factor · e, e + (1 − e) / 2)`, where e is the task's overall error rate
 * (factor 1.5 by default). In words: below t the model is wrong 1.5× as often as usual — or, when e
 * is so high that this is impossible (reports of a weak model), at least halfway from usual to
 * always wrong. "Cumulative below t", not "in the bin at t", so one noisy bin cannot set
 * it; the highest qualifying edge, because everything below it is in the elevated-error region and
 * the right-but-unsure answers there are the ones worth a preference pair.
 *
 * Why 1.5 and not 2: on v0001 (closed e = 0.33, choice e = 0.31) factor 1.5 puts the thresholds
 * where the model is no better than a coin flip (error ≈ 0.5 below 0.555 closed, below 0.715 choice),
 * a line with a meaning for binary answers; factor 2 found no edge at all for choice, whose lowest
 * bin had 0.61 errors against a 0.62 target, although confidence ranks its errors well (AUROC 0.75).
 *
 * Guards:
 * - fewer than `minSamples` samples, or no error at all, or no right answer → the task's default;
 * - no edge qualifies (confidence does not separate errors on this task) → the clamp floor, so
 *   almost only wrong answers count as hard and noise is not mined;
 * - the result is clamped to [min, max] (default [0.05, 0.95]): a threshold near 1 would call every
 *   right answer unsure, one near 0 flags nothing.
 */
import type { TaskType } from '../../data/types.ts';
import type { ScoredSample } from '../types.ts';
import { DEFAULT_THRESHOLDS, MINING_TASKS, type Thresholds } from './criterion.ts';
import { type ConfidenceCurve, type CurveOptions, confidenceCurve, type TaskCurve } from './curve.ts';
import { MiningError } from './errors.ts';

export interface ThresholdOptions extends CurveOptions {
  /** Required error-rate multiple below the threshold (default 1.5). */
  factor?: number;
  /** Fewer samples of a task than this → its default threshold (default 100). */
  minSamples?: number;
  /** Clamp range (default [0.05, 0.95]). */
  min?: number;
  max?: number;
  /** Thresholds for tasks with too little data (default DEFAULT_THRESHOLDS). */
  defaults?: Partial<Thresholds>;
}

export interface ThresholdChoice {
  threshold: number;
  /** `curve`: the rule found an edge; `no_signal`: none qualified (clamp floor); `default`: too little data. */
  source: 'curve' | 'no_signal' | 'default';
  n: number;
  errorRate: number;
  /** The error rate the region below the threshold had to reach. */
  target: number;
  /** Error rate and share of the task's samples below the threshold (NaN/0 for defaults). */
  errorRateBelow: number;
  shareBelow: number;
}

export interface ThresholdResult {
  thresholds: Thresholds;
  choices: Record<TaskType, ThresholdChoice>;
  curve: ConfidenceCurve;
}

function chooseFromCurve(c: TaskCurve, factor: number, min: number, max: number) {
  const e = c.errorRate;
  const target = Math.min(factor * e, e + (1 - e) / 2);
  let count = 0;
  let errors = 0;
  let edge: number | undefined;
  // Edge k = the lowest confidence of bin k+1: every sample of bins 0..k is strictly below it.
  for (let k = 0; k < c.bins.length - 1; k++) {
    count += c.bins[k].count;
    errors += c.bins[k].errors;
    if (errors / count >= target) edge = c.bins[k + 1].lo;
  }
  if (edge === undefined) return { threshold: min, source: 'no_signal' as const, target };
  return { threshold: Math.min(max, Math.max(min, edge)), source: 'curve' as const, target };
}

export function chooseThresholds(
  scored: readonly ScoredSample[],
  options: ThresholdOptions = {},
): ThresholdResult {
  const factor = options.factor ?? 1.5;
  const minSamples = options.minSamples ?? 100;
  const min = options.min ?? 0.05;
  const max = options.max ?? 0.95;
  if (!(factor > 1)) throw new MiningError('BAD_OPTION', `factor must be > 1: ${factor}`);
  if (!(min >= 0 && min < max && max <= 1))
    throw new MiningError('BAD_OPTION', `need 0 ≤ min < max ≤ 1: [${min}, ${max}]`);
  const defaults = { ...DEFAULT_THRESHOLDS, ...options.defaults };
  const curve = confidenceCurve(scored, options);
  const thresholds = { ...defaults };
  const choices = {} as Record<TaskType, ThresholdChoice>;
  for (const task of MINING_TASKS) {
    const c = curve[task];
    const usable =
      c !== undefined && c.n >= minSamples && c.errors > 0 && c.errors < c.n && c.bins.length > 1;
    if (!usable) {
      choices[task] = {
        threshold: defaults[task],
        source: 'default',
        n: c?.n ?? 0,
        errorRate: c?.errorRate ?? Number.NaN,
        target: Number.NaN,
        errorRateBelow: Number.NaN,
        shareBelow: 0,
      };
      continue;
    }
    const chosen = chooseFromCurve(c, factor, min, max);
    // Share and error rate below the clamped threshold, recomputed on the samples themselves.
    const below = scored.filter((s) => s.sample.task === task && s.confidence < chosen.threshold);
    thresholds[task] = chosen.threshold;
    choices[task] = {
      threshold: chosen.threshold,
      source: chosen.source,
      n: c.n,
      errorRate: c.errorRate,
      target: chosen.target,
      errorRateBelow: below.length === 0 ? Number.NaN : below.filter((s) => !s.correct).length / below.length,
      shareBelow: below.length / c.n,
    };
  }
  return { thresholds, choices, curve };
}
