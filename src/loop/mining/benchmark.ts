/**
 * Benchmark mining (as in the CheXPO paper): run the current model over a seeded subset of the
 * labelled SFT pool — whole cases, so a case's questions stay together — and keep the samples it
 * gets wrong or is unsure of. Thresholds come from the same scored subset unless given.
 */
import type { Split } from '../../data/types.ts';
import { type OpenedVersion, readSplit, selectSamples } from '../../inference/offline/index.ts';
import type { ScoredSample, SelectedSample } from '../types.ts';
import { hardReason, type Thresholds } from './criterion.ts';
import type { ConfidenceCurve } from './curve.ts';
import { type ScoreOptions, scoreSamples } from './score.ts';
import { chooseThresholds, type ThresholdChoice, type ThresholdOptions } from './thresholds.ts';

export interface BenchmarkOptions extends ScoreOptions {
  /** The labelled pool to mine (default 'train': never the test split the gate evaluates on). */
  split?: Extract<Split, 'train' | 'validation'>;
  /** At most this many samples, whole cases in a seeded order (default: all). */
  limit?: number;
  /** Seed of the subset (default 0). */
  seed?: number;
  /** Fixed thresholds; when absent they are chosen from the scored subset's curve. */
  thresholds?: Partial<Thresholds>;
  thresholdOptions?: ThresholdOptions;
}

export interface BenchmarkMining {
  scored: ScoredSample[];
  /** Wrong or unsure samples, reason 'wrong' or 'low_confidence'. */
  hard: SelectedSample[];
  thresholds: Thresholds;
  /** How each task's threshold was chosen (or 'given'). */
  choices: Record<string, ThresholdChoice | { source: 'given'; threshold: number }>;
  curve: ConfidenceCurve;
  /** Samples in the split (the SFT sample count the 5% budget is taken of). */
  splitSamples: number;
}

/** The hard samples of a scored set, in input order. */
export function selectHard(
  scored: readonly ScoredSample[],
  thresholds: Readonly<Thresholds>,
): SelectedSample[] {
  const hard: SelectedSample[] = [];
  for (const s of scored) {
    const reason = hardReason(s, thresholds);
    if (reason) hard.push({ scored: s, reason });
  }
  return hard;
}

export async function mineBenchmark(
  model: OpenedVersion,
  dataDir: string,
  options: BenchmarkOptions = {},
): Promise<BenchmarkMining> {
  const data = await readSplit(dataDir, options.split ?? 'train');
  const samples = selectSamples(data.samples, options.limit, options.seed ?? 0);
  const scored = await scoreSamples(model, dataDir, data.cases, samples, options);
  const chosen = chooseThresholds(scored, options.thresholdOptions);
  const thresholds = { ...chosen.thresholds, ...options.thresholds };
  const choices: BenchmarkMining['choices'] = { ...chosen.choices };
  for (const [task, threshold] of Object.entries(options.thresholds ?? {}))
    if (threshold !== undefined) choices[task] = { source: 'given', threshold };
  return {
    scored,
    hard: selectHard(scored, thresholds),
    thresholds,
    choices,
    curve: chosen.curve,
    splitSamples: data.samples.length,
  };
}
