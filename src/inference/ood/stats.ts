/** Statistics every OOD schema shares: the model input's intensity, and quantiles among held-out values. */

export interface IntensityStats {
  mean: number;
  std: number;
}

/** Mean and standard deviation of a model input. */
export function intensityStats(input: Float32Array): IntensityStats {
  let sum = 0;
  for (const v of input) sum += v;
  const mean = sum / input.length;
  let sq = 0;
  for (const v of input) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / input.length) };
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Empirical quantile of x among sorted held-out values, with plotting positions i/(n+1):
 * linear between values, linear from 0 below the smallest, and 1 − e^{−(x − max)/spread}/(n+1) above
 * the largest (spread = max − median of the values, floored).
 */
export function quantileOf(sorted: readonly number[], x: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const first = sorted[0];
  const last = sorted[n - 1];
  if (x > last) {
    const spread = Math.max(last - median(sorted), 1e-6 * Math.max(1, Math.abs(last)));
    return 1 - Math.exp(-(x - last) / spread) / (n + 1);
  }
  if (x <= first) {
    if (first <= 0) return x < first ? 0 : 1 / (n + 1);
    return Math.max(0, x / first) / (n + 1);
  }
  let hi = 1;
  while (sorted[hi] < x) hi++;
  const lo = hi - 1;
  const t = sorted[hi] > sorted[lo] ? (x - sorted[lo]) / (sorted[hi] - sorted[lo]) : 1;
  return (hi + t) / (n + 1);
}
