/**
 * `evaluate`: scores every prediction, reduces each case to counters, and reports every metric of
 * the catalogue with a 95 % case-bootstrap interval and a reliability table.
 */
import type { InstructionSample, LabelledCase, TaskType } from '../data/types.ts';
import { percentileInterval, replicates } from './bootstrap.ts';
import { EvaluationError } from './errors.ts';
import { metricCatalogue } from './metric-defs.ts';
import { type Prediction, type SampleScore, scorePrediction } from './score.ts';
import { K, TallyMatrix, type TallyOptions, type Totals, tallyCase } from './tally.ts';
import { type TruthIndex, truthFromCases, truthFromSamples } from './truth.ts';

export interface EvalOptions {
  /** Exact case labels (phantoms); without them truth is read from the samples' references. */
  cases?: readonly LabelledCase[];
  /** Bootstrap replicates (default 1000); 0 skips intervals. */
  resamples?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Interval level (default 0.95). */
  level?: number;
  /** Calibration bins (default 15). */
  bins?: number;
  /**
   * Tasks whose answer_prob is calibrated against their score (default closed, choice, open: the
   * tasks with a binary score and a one-span answer; list and report confidences cover many claims).
   */
  calibrationTasks?: readonly TaskType[];
}

export interface MetricValue {
  value: number;
  lo: number;
  hi: number;
  support: number;
  better: 'higher' | 'lower';
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  mean_confidence: number;
  /** Mean score of the bin's samples (accuracy for binary tasks). */
  accuracy: number;
}

export interface EvalResult {
  n_samples: number;
  n_cases: number;
  metrics: Record<string, MetricValue>;
  reliability: ReliabilityBin[];
  config: { resamples: number; seed: number; level: number; bins: number; calibration_tasks: TaskType[] };
}

export const DEFAULT_CALIBRATION_TASKS: readonly TaskType[] = ['closed', 'choice', 'open'];

export interface ResolvedOptions {
  resamples: number;
  seed: number;
  level: number;
  tally: TallyOptions;
}

export function resolveOptions(o: EvalOptions): ResolvedOptions {
  const resamples = o.resamples ?? 1000;
  const level = o.level ?? 0.95;
  const bins = o.bins ?? 15;
  if (!Number.isInteger(resamples) || resamples < 0)
    throw new EvaluationError('BAD_OPTION', `resamples must be a whole number ≥ 0: ${resamples}`);
  if (!(level > 0 && level < 1)) throw new EvaluationError('BAD_OPTION', `level must be in (0, 1): ${level}`);
  if (!Number.isInteger(bins) || bins < 1)
    throw new EvaluationError('BAD_OPTION', `bins must be a whole number ≥ 1: ${bins}`);
  return {
    resamples,
    seed: o.seed ?? 0,
    level,
    tally: { bins, calibrationTasks: o.calibrationTasks ?? DEFAULT_CALIBRATION_TASKS },
  };
}

/** Scores grouped by case, in first-seen sample order (so case indices are stable across models). */
export interface ScoredSet {
  caseIds: string[];
  byCase: Map<string, SampleScore[]>;
  truth: TruthIndex;
  nSamples: number;
}

/** Pairs every sample with its prediction; a missing, extra or doubled prediction is an error. */
export function scoreAll(
  samples: readonly InstructionSample[],
  predictions: readonly Prediction[],
  cases?: readonly LabelledCase[],
): ScoredSet {
  if (samples.length === 0) throw new EvaluationError('EMPTY', 'no samples to evaluate');
  const bySample = new Map<string, Prediction>();
  const known = new Set(samples.map((s) => s.id));
  for (const p of predictions) {
    if (!known.has(p.sample_id))
      throw new EvaluationError('UNKNOWN_SAMPLE', `prediction for unknown sample ${p.sample_id}`);
    if (bySample.has(p.sample_id))
      throw new EvaluationError('DUPLICATE_PREDICTION', `two predictions for ${p.sample_id}`);
    bySample.set(p.sample_id, p);
  }
  const truth = cases ? truthFromCases(cases) : truthFromSamples(samples);
  const byCase = new Map<string, SampleScore[]>();
  for (const s of samples) {
    const p = bySample.get(s.id);
    if (!p) throw new EvaluationError('MISSING_PREDICTION', `no prediction for sample ${s.id}`);
    const list = byCase.get(s.case_id) ?? [];
    list.push(scorePrediction(s, p, truth.get(s.case_id)));
    byCase.set(s.case_id, list);
  }
  return { caseIds: [...byCase.keys()], byCase, truth, nSamples: samples.length };
}

export function tallyMatrix(set: ScoredSet, o: TallyOptions): TallyMatrix {
  return new TallyMatrix(set.caseIds.map((id) => tallyCase(set.byCase.get(id)!, set.truth.get(id), o)));
}

export function reliabilityTable(t: Totals, bins: number): ReliabilityBin[] {
  return Array.from({ length: bins }, (_, b) => {
    const count = t.get(K.binN(b));
    return {
      lo: b / bins,
      hi: (b + 1) / bins,
      count,
      mean_confidence: count > 0 ? t.get(K.binConf(b)) / count : Number.NaN,
      accuracy: count > 0 ? t.get(K.binScore(b)) / count : Number.NaN,
    };
  });
}

/** Metrics with support on the full set, point values and percentile intervals. */
export function summarize(matrix: TallyMatrix, o: ResolvedOptions): Record<string, MetricValue> {
  const point = matrix.sum();
  const defs = metricCatalogue(o.tally.bins).filter((d) => d.support(point) > 0);
  const draws = defs.map((): number[] => []);
  for (const w of replicates(matrix.caseCount, o.resamples, o.seed)) {
    const t = matrix.sum(w);
    defs.forEach((d, i) => {
      draws[i].push(d.value(t));
    });
  }
  const out: Record<string, MetricValue> = {};
  defs.forEach((d, i) => {
    const [lo, hi] = o.resamples > 0 ? percentileInterval(draws[i], o.level) : [Number.NaN, Number.NaN];
    out[d.name] = { value: d.value(point), lo, hi, support: d.support(point), better: d.better };
  });
  return out;
}

export function evaluate(
  samples: readonly InstructionSample[],
  predictions: readonly Prediction[],
  options: EvalOptions = {},
): EvalResult {
  const o = resolveOptions(options);
  const set = scoreAll(samples, predictions, options.cases);
  const matrix = tallyMatrix(set, o.tally);
  return {
    n_samples: set.nSamples,
    n_cases: set.caseIds.length,
    metrics: summarize(matrix, o),
    reliability: reliabilityTable(matrix.sum(), o.tally.bins),
    config: {
      resamples: o.resamples,
      seed: o.seed,
      level: o.level,
      bins: o.tally.bins,
      calibration_tasks: [...o.tally.calibrationTasks],
    },
  };
}
