/**
 * Values of interest: maps modality values (stored value × slope + intercept) to display
 * intensities in [0, 1], following PS3.3 C.11.2.1.2 for a window, else a robust percentile stretch.
 */
export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface Window {
  center: number;
  width: number;
  fn: VoiFunction;
}

/** Lower and upper percentiles of the fallback stretch when a file declares no window. */
export const FALLBACK_PERCENTILES = [0.5, 99.5] as const;

/** In-place: `values` (modality values) become display intensities in [0, 1]. */
export function applyWindow(values: Float32Array, window: Window): void {
  const { center: c, width: w, fn } = window;
  for (let i = 0; i < values.length; i++) values[i] = windowValue(values[i], c, w, fn);
}

/** Display intensity of one modality value under a window (PS3.3 C.11.2.1.2). */
export function windowValue(x: number, c: number, w: number, fn: VoiFunction): number {
  if (fn === 'SIGMOID') return 1 / (1 + Math.exp((-4 * (x - c)) / w));
  if (fn === 'LINEAR_EXACT') {
    if (x <= c - w / 2) return 0;
    if (x > c + w / 2) return 1;
    return (x - c) / w + 0.5;
  }
  // LINEAR: width 1 is a threshold at c − 0.5.
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 1;
  return (x - (c - 0.5)) / (w - 1) + 0.5;
}

/** In-place linear stretch of the [0.5, 99.5] percentile range to [0, 1] (constant images become 0). */
export function applyPercentileStretch(values: Float32Array): void {
  const [lo, hi] = percentileRange(values, FALLBACK_PERCENTILES[0], FALLBACK_PERCENTILES[1]);
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) {
    values[i] = span > 0 ? Math.min(1, Math.max(0, (values[i] - lo) / span)) : 0;
  }
}

/**
 * Approximate percentiles from a 65,536-bin histogram over [min, max]: exact for integer data
 * spanning at most 65,536 levels (every 16-bit image), within one bin otherwise.
 */
export function percentileRange(values: Float32Array, pLow: number, pHigh: number): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return [min, max];
  const bins = 65_536;
  const binWidth = (max - min) / (bins - 1);
  const counts = new Uint32Array(bins);
  for (const v of values) counts[Math.round((v - min) / binWidth)]++;
  const rankLow = (pLow / 100) * (values.length - 1);
  const rankHigh = (pHigh / 100) * (values.length - 1);
  let low = min;
  let high = max;
  let seen = 0;
  let lowFound = false;
  for (let b = 0; b < bins; b++) {
    seen += counts[b];
    if (!lowFound && seen > rankLow) {
      low = min + b * binWidth;
      lowFound = true;
    }
    if (seen > rankHigh) {
      high = min + b * binWidth;
      break;
    }
  }
  return [low, high];
}
