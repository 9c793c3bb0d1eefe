/** Case-level bootstrap: samples of one case share an image, so cases are the resampling unit. */
import { Rng } from '../data/random.ts';

/** One replicate: how many times each of n cases is drawn (n draws with replacement). */
export function resampleCounts(n: number, rng: Rng): Uint32Array {
  const counts = new Uint32Array(n);
  for (let i = 0; i < n; i++) counts[Math.floor(rng.next() * n)]++;
  return counts;
}

/** Seeded replicate weights; the same seed gives the same replicates, so intervals reproduce. */
export function* replicates(n: number, resamples: number, seed: number): Generator<Uint32Array> {
  const rng = Rng.derive(seed, 'eval-bootstrap');
  for (let r = 0; r < resamples; r++) yield resampleCounts(n, rng);
}

/** Percentile interval at `level`, ignoring NaN replicates (a metric undefined in that draw). */
export function percentileInterval(values: readonly number[], level: number): [number, number] {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return [Number.NaN, Number.NaN];
  const alpha = (1 - level) / 2;
  return [quantile(v, alpha), quantile(v, 1 - alpha)];
}

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
