/**
 * The out-of-distribution detector of a model version (`ood.json`, schema chexpo.ood/2, since v0003).
 *
 * Two Gaussian models fitted on TRAINING images, each scored by Mahalanobis distance:
 * - image statistics of the model input that phantoms and real films, CT, MR, thumbnails and mirrored
 *   films differ in: intensity quantiles, gradient energy at three scales (texture and noise), the
 *   Laplacian-to-contrast ratio (sharpness), left–right and top–bottom balance (heart side, framing),
 *   border-to-centre contrast and the share of clipped pixels;
 * - the encoder's pooled embedding (what the model itself thinks it is looking at).
 * Covariances are shrunk toward their diagonal (Ledoit–Wolf style, fixed λ) so a few hundred images fit
 * them. Each distance becomes a quantile among HELD-OUT in-distribution images (validation), and the
 * score is the held-out quantile of the larger part quantile: ~uniform on [0, 1] in distribution.
 * `flag_quantile` = 1 − the configured false-flag rate: scores above it are out of distribution.
 */
import { EvaluationRunError } from '../errors.ts';
import { quantileOf } from './stats.ts';

export const IMAGE_STAT_NAMES = [
  'q05',
  'q25',
  'q50',
  'q75',
  'q95',
  'mean',
  'std',
  'grad1',
  'grad2',
  'grad4',
  'laplacian_ratio',
  'left_right',
  'top_bottom',
  'border_centre',
  'clipped_low',
  'clipped_high',
] as const;

/** Image statistics of a square model input (side² values, normalised as the model sees them). */
export function imageStatistics(input: Float32Array): Float64Array {
  const side = Math.round(Math.sqrt(input.length));
  const sorted = Float32Array.from(input).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  let mean = 0;
  for (const v of input) mean += v;
  mean /= input.length;
  let sq = 0;
  for (const v of input) sq += (v - mean) ** 2;
  const std = Math.sqrt(sq / input.length);
  const at = (x: number, y: number) => input[y * side + x];
  const gradient = (step: number) => {
    let g = 0;
    let n = 0;
    for (let y = 0; y + step < side; y += step)
      for (let x = 0; x + step < side; x += step) {
        g += Math.abs(at(x + step, y) - at(x, y)) + Math.abs(at(x, y + step) - at(x, y));
        n++;
      }
    return g / Math.max(1, n);
  };
  let lap = 0;
  for (let y = 1; y < side - 1; y++)
    for (let x = 1; x < side - 1; x++)
      lap += Math.abs(4 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1));
  lap /= Math.max(1, (side - 2) ** 2);
  let left = 0;
  let right = 0;
  let top = 0;
  let bottom = 0;
  let border = 0;
  let centre = 0;
  let nBorder = 0;
  let nCentre = 0;
  const ring = Math.max(1, Math.floor(side / 16));
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const v = at(x, y);
      if (x < side / 2) left += v;
      else right += v;
      if (y < side / 2) top += v;
      else bottom += v;
      if (x < ring || y < ring || x >= side - ring || y >= side - ring) {
        border += v;
        nBorder++;
      } else if (Math.abs(x - side / 2) < side / 4 && Math.abs(y - side / 2) < side / 4) {
        centre += v;
        nCentre++;
      }
    }
  const half = input.length / 2;
  const lo = sorted[0];
  const hi = sorted[sorted.length - 1];
  const span = Math.max(hi - lo, 1e-6);
  let clippedLow = 0;
  let clippedHigh = 0;
  for (const v of input) {
    if (v <= lo + 0.01 * span) clippedLow++;
    if (v >= hi - 0.01 * span) clippedHigh++;
  }
  return Float64Array.from([
    q(0.05),
    q(0.25),
    q(0.5),
    q(0.75),
    q(0.95),
    mean,
    std,
    gradient(1),
    gradient(2),
    gradient(4),
    lap / Math.max(std, 1e-6),
    (right - left) / half,
    (bottom - top) / half,
    border / Math.max(1, nBorder) - centre / Math.max(1, nCentre),
    clippedLow / input.length,
    clippedHigh / input.length,
  ]);
}

interface GaussianJSON {
  dim: number;
  mean: number[];
  /** dim × dim inverse of the shrunk covariance, row-major. */
  precision: number[];
}

export interface OodDetectorJSON {
  schema: 'chexpo.ood/2';
  image_stats: GaussianJSON;
  embedding: GaussianJSON;
  /** Sorted held-out values: the two Mahalanobis distances and the combined part quantile. */
  quantiles: { image_stats: number[]; embedding: number[]; combined: number[] };
  /** Scores above this are flagged (1 − false-flag rate on held-out images). */
  flag_quantile: number;
  fitted_on: { reference: number; held_out: number };
}

export interface DetectorFeatures {
  embedding: ArrayLike<number>;
  /** The model input (side² values). */
  input: Float32Array;
}

export interface OodDetails {
  score: number;
  image_stats_distance: number;
  embedding_distance: number;
  image_stats_quantile: number;
  embedding_quantile: number;
  flagged: boolean;
}

/** Gauss–Jordan inverse of a symmetric positive-definite matrix (small dims: ≤ 128). */
function invert(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[pivot * n + c])) pivot = r;
    if (pivot !== c)
      for (let k = 0; k < n; k++) {
        [m[c * n + k], m[pivot * n + k]] = [m[pivot * n + k], m[c * n + k]];
        [inv[c * n + k], inv[pivot * n + k]] = [inv[pivot * n + k], inv[c * n + k]];
      }
    const d = m[c * n + c];
    if (Math.abs(d) < 1e-300) throw new EvaluationRunError('BAD_OOD_REFERENCE', 'singular covariance');
    for (let k = 0; k < n; k++) {
      m[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] -= f * m[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/** Mean and shrunk-covariance precision: Σ' = (1 − λ)Σ + λ·diag(Σ), plus a small ridge. */
function fitGaussian(rows: readonly ArrayLike<number>[], shrinkage: number): GaussianJSON {
  const n = rows.length;
  const dim = rows[0].length;
  const mean = new Float64Array(dim);
  for (const r of rows) for (let i = 0; i < dim; i++) mean[i] += r[i] / n;
  const cov = new Float64Array(dim * dim);
  for (const r of rows)
    for (let i = 0; i < dim; i++) {
      const di = r[i] - mean[i];
      for (let j = i; j < dim; j++) cov[i * dim + j] += (di * (r[j] - mean[j])) / Math.max(1, n - 1);
    }
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += cov[i * dim + i];
  const ridge = 1e-6 * Math.max(trace / dim, 1e-12);
  for (let i = 0; i < dim; i++)
    for (let j = i; j < dim; j++) {
      const v = i === j ? cov[i * dim + j] + ridge : (1 - shrinkage) * cov[i * dim + j];
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  return { dim, mean: Array.from(mean), precision: Array.from(invert(cov, dim)) };
}

function mahalanobis(
  g: { dim: number; mean: Float64Array; precision: Float64Array },
  x: ArrayLike<number>,
): number {
  const { dim, mean, precision } = g;
  if (x.length !== dim)
    throw new EvaluationRunError(
      'BAD_OOD_REFERENCE',
      `feature vector has ${x.length} values, detector ${dim}`,
    );
  const d = new Float64Array(dim);
  for (let i = 0; i < dim; i++) d[i] = x[i] - mean[i];
  let s = 0;
  for (let i = 0; i < dim; i++) {
    let row = 0;
    for (let j = 0; j < dim; j++) row += precision[i * dim + j] * d[j];
    s += d[i] * row;
  }
  return Math.sqrt(Math.max(0, s));
}

const unpack = (g: GaussianJSON) => ({
  dim: g.dim,
  mean: Float64Array.from(g.mean),
  precision: Float64Array.from(g.precision),
});

function unit(e: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < e.length; i++) n += e[i] * e[i];
  const s = 1 / Math.sqrt(Math.max(n, 1e-24));
  return Float64Array.from(e as ArrayLike<number>, (v) => v * s);
}

export interface DetectorFitOptions {
  /** Held-out images flagged by construction (default 0.05). */
  falseFlagRate?: number;
  /** Covariance shrinkage toward the diagonal (default 0.1). */
  shrinkage?: number;
}

export class OodDetector {
  private readonly stats;
  private readonly embedding;

  private readonly json: OodDetectorJSON;
  private constructor(json: OodDetectorJSON) {
    this.json = json;
    this.stats = unpack(json.image_stats);
    this.embedding = unpack(json.embedding);
  }

  get flagQuantile(): number {
    return this.json.flag_quantile;
  }

  details(f: DetectorFeatures): OodDetails {
    const q = this.json.quantiles;
    const image_stats_distance = mahalanobis(this.stats, imageStatistics(f.input));
    const embedding_distance = mahalanobis(this.embedding, unit(f.embedding));
    const image_stats_quantile = quantileOf(q.image_stats, image_stats_distance);
    const embedding_quantile = quantileOf(q.embedding, embedding_distance);
    const score = quantileOf(q.combined, Math.max(image_stats_quantile, embedding_quantile));
    return {
      score,
      image_stats_distance,
      embedding_distance,
      image_stats_quantile,
      embedding_quantile,
      flagged: score > this.json.flag_quantile,
    };
  }

  score(embedding: ArrayLike<number>, input: Float32Array): number {
    return this.details({ embedding, input }).score;
  }

  toJSON(): OodDetectorJSON {
    return structuredClone(this.json);
  }

  static isDetectorJSON(value: unknown): boolean {
    return (value as { schema?: unknown } | null)?.schema === 'chexpo.ood/2';
  }

  static fromJSON(value: unknown): OodDetector {
    const j = value as Partial<OodDetectorJSON> | null;
    const gaussian = (g: Partial<GaussianJSON> | undefined) =>
      Number.isInteger(g?.dim) &&
      g!.mean?.length === g!.dim &&
      g!.precision?.length === g!.dim! * g!.dim! &&
      g!.precision.every(Number.isFinite);
    const sorted = (a: unknown): boolean =>
      Array.isArray(a) && a.length > 0 && a.every((x, i) => Number.isFinite(x) && (i === 0 || x >= a[i - 1]));
    const ok =
      j?.schema === 'chexpo.ood/2' &&
      gaussian(j.image_stats) &&
      gaussian(j.embedding) &&
      sorted(j.quantiles?.image_stats) &&
      sorted(j.quantiles?.embedding) &&
      sorted(j.quantiles?.combined) &&
      typeof j.flag_quantile === 'number' &&
      j.flag_quantile > 0 &&
      j.flag_quantile < 1;
    if (!ok) throw new EvaluationRunError('BAD_OOD_REFERENCE', 'not a valid chexpo.ood/2 detector');
    return new OodDetector(structuredClone(j as OodDetectorJSON));
  }

  /** Fits on training images (`reference`) and sets quantiles and the flag threshold on `heldOut`. */
  static fit(
    reference: readonly DetectorFeatures[],
    heldOut: readonly DetectorFeatures[],
    options: DetectorFitOptions = {},
  ): OodDetector {
    if (reference.length < 2 || heldOut.length === 0)
      throw new EvaluationRunError('EMPTY', 'the OOD detector needs training and held-out images');
    const shrinkage = options.shrinkage ?? 0.1;
    const rate = options.falseFlagRate ?? 0.05;
    if (!(rate > 0 && rate < 1)) throw new EvaluationRunError('BAD_OPTION', `false-flag rate ${rate}`);
    const json: OodDetectorJSON = {
      schema: 'chexpo.ood/2',
      image_stats: fitGaussian(
        reference.map((r) => imageStatistics(r.input)),
        shrinkage,
      ),
      embedding: fitGaussian(
        reference.map((r) => unit(r.embedding)),
        shrinkage,
      ),
      quantiles: { image_stats: [0], embedding: [0], combined: [0] },
      flag_quantile: 1 - rate,
      fitted_on: { reference: reference.length, held_out: heldOut.length },
    };
    const byAsc = (a: number, b: number) => a - b;
    const first = new OodDetector(json);
    json.quantiles.image_stats = heldOut
      .map((h) => mahalanobis(first.stats, imageStatistics(h.input)))
      .sort(byAsc);
    json.quantiles.embedding = heldOut
      .map((h) => mahalanobis(first.embedding, unit(h.embedding)))
      .sort(byAsc);
    const parts = new OodDetector(json);
    json.quantiles.combined = heldOut
      .map((h) => {
        const d = parts.details(h);
        return Math.max(d.image_stats_quantile, d.embedding_quantile);
      })
      .sort(byAsc);
    // The threshold: the held-out combined score's (1 − rate) quantile is 1 − rate by construction.
    return new OodDetector(json);
  }
}
