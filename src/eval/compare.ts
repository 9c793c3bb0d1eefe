/**
 * The promotion gate's statistics: a paired case bootstrap of candidate − current on the same
 * samples. Both models' case tallies are summed with the SAME replicate weights, so the shared
 * difficulty of a case cancels and the interval of the difference is far narrower than the two
 * separate intervals would suggest.
 */
import type { InstructionSample } from '../data/types.ts';
import { percentileInterval, replicates } from './bootstrap.ts';
import { metricCatalogue } from './metric-defs.ts';
import { type EvalOptions, resolveOptions, scoreAll, tallyMatrix } from './metrics.ts';
import type { Prediction } from './score.ts';

export interface MetricDifference {
  current: number;
  candidate: number;
  /** candidate − current. */
  diff: number;
  lo: number;
  hi: number;
  /** Share of replicates with diff ≤ 0. */
  p_diff_le_0: number;
  /** Support of the metric on the current model (the smaller-is-noisier figure for the gate). */
  support: number;
  better: 'higher' | 'lower';
}

export interface Comparison {
  n_samples: number;
  n_cases: number;
  resamples: number;
  seed: number;
  level: number;
  metrics: Record<string, MetricDifference>;
}

export function compareModels(
  samples: readonly InstructionSample[],
  current: readonly Prediction[],
  candidate: readonly Prediction[],
  options: EvalOptions = {},
): Comparison {
  const o = resolveOptions(options);
  const a = scoreAll(samples, current, options.cases);
  const b = scoreAll(samples, candidate, options.cases);
  // Same samples in the same order, so case c of `a` is case c of `b`: the pairing is by construction.
  const ma = tallyMatrix(a, o.tally);
  const mb = tallyMatrix(b, o.tally);
  const pa = ma.sum();
  const pb = mb.sum();
  const defs = metricCatalogue(o.tally.bins).filter((d) => d.support(pa) > 0 && d.support(pb) > 0);
  const draws = defs.map((): number[] => []);
  for (const w of replicates(ma.caseCount, o.resamples, o.seed)) {
    const ta = ma.sum(w);
    const tb = mb.sum(w);
    defs.forEach((d, i) => {
      draws[i].push(d.value(tb) - d.value(ta));
    });
  }
  const metrics: Record<string, MetricDifference> = {};
  defs.forEach((d, i) => {
    const [lo, hi] = o.resamples > 0 ? percentileInterval(draws[i], o.level) : [Number.NaN, Number.NaN];
    const defined = draws[i].filter((x) => !Number.isNaN(x));
    const current = d.value(pa);
    const cand = d.value(pb);
    metrics[d.name] = {
      current,
      candidate: cand,
      diff: cand - current,
      lo,
      hi,
      p_diff_le_0: defined.length > 0 ? defined.filter((x) => x <= 0).length / defined.length : Number.NaN,
      support: d.support(pa),
      better: d.better,
    };
  });
  return {
    n_samples: a.nSamples,
    n_cases: a.caseIds.length,
    resamples: o.resamples,
    seed: o.seed,
    level: o.level,
    metrics,
  };
}
