/**
 * The chexpo.ood/1 references of v0001–v0002 (`ood.json`): read for those versions; new versions
 * write chexpo.ood/2 (./detector.ts). One schema tag, two forms, told apart by the `knn` field.
 *
 * ## k-NN form (`OodReference`, fitted from encoder embeddings; what `chexpo eval` wrote)
 * Embedding part: the mean cosine distance d = 1 − cos of an image's L2-normalised embedding to its
 * k nearest reference embeddings (up to a few hundred training images), turned into a quantile among
 * the same distance of HELD-OUT in-distribution images (validation; measured against the training
 * reference, so they are as new to it as a test image is). k-NN rather than one centroid: views (PA
 * and AP) and findings make the training embeddings several clusters, and a centroid calls the space
 * between them "typical".
 * Intensity part: the model input's mean and standard deviation as robust z-scores against the
 * training images (median, 1.4826·MAD); the larger |z| is ranked the same way. It catches windowing or
 * content the encoder maps near the data (a random or under-trained encoder does that a lot).
 * Score: the held-out quantile of max(embedding quantile, intensity quantile) — so in-distribution
 * images score ~uniformly on [0, 1] and an image beyond every held-out one approaches 1. Quantiles use
 * plotting positions i/(n+1) with an exponential tail past the largest held-out value, so "a little
 * beyond" and "far beyond" stay distinguishable.
 *
 * The JSON keeps the fields of the centroid form (centroid, distance, intensity) next to its own
 * (`knn`, `quantiles`), under the same schema tag.
 *
 * ## Centroid form (`CentroidReference`)
 *
 *   { "schema": "chexpo.ood/1",
 *     "centroid": [E numbers],            mean training embedding (need not be unit length)
 *     "distance": { "mean": m, "std": s }, cosine distance 1 − cos(e, centroid) on training images
 *     "intensity": { "mean": [μ, σ], "std": [μ, σ] } }  model-input pixel mean/std over training images
 *
 * Each part is a z-score z = (x − μ)/σ (only the "further than usual" side counts); the score is
 * σ(z_max − 3): ~0 inside three standard deviations, → 1 far outside. Intensity statistics catch
 * images whose windowing or content is implausible even when the random or under-trained encoder
 * maps them close to the centroid.
 */
import { defineErrors } from '../../errors/define.ts';
import { EvaluationRunError } from '../errors.ts';
import { type IntensityStats, intensityStats, median, quantileOf } from './stats.ts';

export interface ImageFeatures {
  /** L2-normalised encoder embedding (renormalised here anyway). */
  embedding: Float32Array;
  intensity: IntensityStats;
}

export interface OodJSON {
  schema: 'chexpo.ood/1';
  centroid: number[];
  distance: { mean: number; std: number };
  intensity: { mean: [number, number]; std: [number, number] };
  knn: {
    k: number;
    dim: number;
    count: number;
    /** count × dim float32, little-endian, base64. */
    embeddings: string;
  };
  /** Robust centre and scale of the training intensity statistics. */
  robust_intensity: { mean: [number, number]; std: [number, number] };
  /** Sorted held-out values of the k-NN distance, the intensity |z| and the combined quantile. */
  quantiles: { knn_distance: number[]; intensity_z: number[]; combined: number[] };
  fitted_on: { reference: number; held_out: number };
}

export interface KnnOodDetails {
  score: number;
  knn_distance: number;
  embedding_quantile: number;
  intensity_z: number;
  intensity_quantile: number;
}

export interface OodFitOptions {
  /** Neighbours (default 5). */
  k?: number;
}

function normalized(e: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < e.length; i++) n += e[i] * e[i];
  const s = 1 / Math.sqrt(Math.max(n, 1e-24));
  return Float32Array.from(e, (v) => v * s);
}

/** (centre, scale) = (median, 1.4826 · MAD), scale floored so constant statistics do not divide by 0. */
function robust(xs: readonly number[]): [number, number] {
  const c = median(xs);
  return [c, Math.max(1.4826 * median(xs.map((x) => Math.abs(x - c))), 1e-6)];
}

function meanStd(xs: readonly number[]): [number, number] {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
  return [m, Math.max(sd, 1e-6)];
}

function encodeFloats(data: Float32Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

function decodeFloats(base64: string, count: number): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== count * 4)
    throw new EvaluationRunError('BAD_OOD_REFERENCE', 'reference embeddings have the wrong size');
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export class OodReference {
  private readonly reference: Float32Array;

  private readonly json: OodJSON;
  private constructor(json: OodJSON) {
    this.json = json;
    this.reference = decodeFloats(json.knn.embeddings, json.knn.count * json.knn.dim);
  }

  get dim(): number {
    return this.json.knn.dim;
  }

  /** Mean cosine distance to the k nearest reference embeddings. */
  knnDistance(embedding: ArrayLike<number>): number {
    const { k, dim, count } = this.json.knn;
    if (embedding.length !== dim)
      throw new EvaluationRunError(
        'BAD_OOD_REFERENCE',
        `embedding has ${embedding.length} values, reference ${dim}`,
      );
    const e = normalized(embedding);
    const distances = new Float64Array(count);
    for (let r = 0; r < count; r++) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += e[i] * this.reference[r * dim + i];
      distances[r] = 1 - dot;
    }
    distances.sort();
    const m = Math.min(k, count);
    let sum = 0;
    for (let i = 0; i < m; i++) sum += distances[i];
    return sum / m;
  }

  /** The larger robust |z| of the input's mean and standard deviation. */
  intensityZ(stats: IntensityStats): number {
    const { mean, std } = this.json.robust_intensity;
    return Math.max(Math.abs(stats.mean - mean[0]) / mean[1], Math.abs(stats.std - std[0]) / std[1]);
  }

  details(embedding: ArrayLike<number>, stats: IntensityStats): KnnOodDetails {
    const q = this.json.quantiles;
    const knn_distance = this.knnDistance(embedding);
    const intensity_z = this.intensityZ(stats);
    const embedding_quantile = quantileOf(q.knn_distance, knn_distance);
    const intensity_quantile = quantileOf(q.intensity_z, intensity_z);
    const score = quantileOf(q.combined, Math.max(embedding_quantile, intensity_quantile));
    return { score, knn_distance, embedding_quantile, intensity_z, intensity_quantile };
  }

  /** OOD score in [0, 1]: ~uniform on in-distribution images, → 1 far outside. */
  score(embedding: ArrayLike<number>, stats: IntensityStats): number {
    return this.details(embedding, stats).score;
  }

  toJSON(): OodJSON {
    return structuredClone(this.json);
  }

  static fromJSON(value: unknown): OodReference {
    const j = value as Partial<OodJSON> | null;
    const sorted = (a: unknown): boolean =>
      Array.isArray(a) && a.length > 0 && a.every((x, i) => Number.isFinite(x) && (i === 0 || x >= a[i - 1]));
    const ok =
      j?.schema === 'chexpo.ood/1' &&
      Number.isInteger(j.knn?.k) &&
      Number.isInteger(j.knn?.dim) &&
      Number.isInteger(j.knn?.count) &&
      j.knn!.count > 0 &&
      typeof j.knn?.embeddings === 'string' &&
      sorted(j.quantiles?.knn_distance) &&
      sorted(j.quantiles?.intensity_z) &&
      sorted(j.quantiles?.combined) &&
      Array.isArray(j.robust_intensity?.mean) &&
      Array.isArray(j.robust_intensity?.std);
    if (!ok)
      throw new EvaluationRunError('BAD_OOD_REFERENCE', 'not a chexpo.ood/1 reference with a k-NN part');
    return new OodReference(structuredClone(j as OodJSON));
  }

  /**
   * Fits from training images (`reference`, a few hundred are plenty) and held-out in-distribution
   * images (`heldOut`, e.g. the validation split), which set the quantiles.
   */
  static fit(
    reference: readonly ImageFeatures[],
    heldOut: readonly ImageFeatures[],
    options: OodFitOptions = {},
  ): OodReference {
    if (reference.length === 0)
      throw new EvaluationRunError('EMPTY', 'no reference images for the OOD reference');
    if (heldOut.length === 0)
      throw new EvaluationRunError('EMPTY', 'no held-out images for the OOD quantiles');
    const dim = reference[0].embedding.length;
    const k = options.k ?? 5;
    const embeddings = new Float32Array(reference.length * dim);
    reference.forEach((r, i) => {
      embeddings.set(normalized(r.embedding), i * dim);
    });
    const centroid = new Float64Array(dim);
    for (let i = 0; i < embeddings.length; i++) centroid[i % dim] += embeddings[i] / reference.length;
    const unitCentroid = normalized(centroid);
    const centroidDistance = reference.map((r) => {
      const e = normalized(r.embedding);
      return 1 - e.reduce((s, v, i) => s + v * unitCentroid[i], 0);
    });
    const means = reference.map((r) => r.intensity.mean);
    const stds = reference.map((r) => r.intensity.std);
    const json: OodJSON = {
      schema: 'chexpo.ood/1',
      centroid: Array.from(centroid),
      distance: { mean: meanStd(centroidDistance)[0], std: meanStd(centroidDistance)[1] },
      intensity: { mean: meanStd(means), std: meanStd(stds) },
      knn: { k, dim, count: reference.length, embeddings: encodeFloats(embeddings) },
      robust_intensity: { mean: robust(means), std: robust(stds) },
      quantiles: { knn_distance: [0], intensity_z: [0], combined: [0] },
      fitted_on: { reference: reference.length, held_out: heldOut.length },
    };
    // Two passes: the part quantiles first, then the distribution of their maximum on the same images.
    const partial = new OodReference(json);
    const byAsc = (a: number, b: number) => a - b;
    json.quantiles.knn_distance = heldOut.map((h) => partial.knnDistance(h.embedding)).sort(byAsc);
    json.quantiles.intensity_z = heldOut.map((h) => partial.intensityZ(h.intensity)).sort(byAsc);
    const parts = new OodReference(json);
    json.quantiles.combined = heldOut
      .map((h) => {
        const d = parts.details(h.embedding, h.intensity);
        return Math.max(d.embedding_quantile, d.intensity_quantile);
      })
      .sort(byAsc);
    return new OodReference(json);
  }
}

/** The centroid form: the fields every chexpo.ood/1 file has. */
export interface CentroidReference {
  schema: 'chexpo.ood/1';
  centroid: number[];
  distance: { mean: number; std: number };
  intensity?: { mean: [number, number]; std: [number, number] };
}

export class OodError extends defineErrors('OodError', {
  ENGINE_BAD_OOD_REFERENCE: {
    when: "A version's ood.json that is not a chexpo.ood/1 reference for the model's embedding width: the version is damaged or of another model; refit it with `chexpo release`.",
  },
}) {
  constructor(message: string) {
    super('ENGINE_BAD_OOD_REFERENCE', message);
  }
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function parseOodReference(json: unknown, embeddingDim: number): CentroidReference {
  const j = json as Partial<CentroidReference> | null;
  const pair = (p: unknown): boolean => Array.isArray(p) && p.length === 2 && p.every(finite) && p[1] > 0;
  const ok =
    j?.schema === 'chexpo.ood/1' &&
    Array.isArray(j.centroid) &&
    j.centroid.length === embeddingDim &&
    j.centroid.every(finite) &&
    finite(j.distance?.mean) &&
    finite(j.distance?.std) &&
    j.distance.std > 0 &&
    (j.intensity === undefined || (pair(j.intensity.mean) && pair(j.intensity.std)));
  if (!ok) throw new OodError(`ood.json is not a chexpo.ood/1 reference for ${embeddingDim}-d embeddings`);
  return j as CentroidReference;
}

/** The centroid form's score (0 without a reference). */
export function centroidScore(
  ref: CentroidReference | undefined,
  embedding: Float32Array,
  input: Float32Array,
): number {
  if (!ref) return 0;
  let dot = 0;
  let norm = 0;
  let embNorm = 0;
  ref.centroid.forEach((c, i) => {
    dot += c * embedding[i];
    norm += c * c;
    embNorm += embedding[i] * embedding[i];
  });
  const cos = dot / Math.sqrt(Math.max(norm * embNorm, 1e-24));
  const zs = [(1 - cos - ref.distance.mean) / ref.distance.std];
  if (ref.intensity) {
    const { mean, std } = intensityStats(input);
    zs.push(Math.abs(mean - ref.intensity.mean[0]) / ref.intensity.mean[1]);
    zs.push(Math.abs(std - ref.intensity.std[0]) / ref.intensity.std[1]);
  }
  return sigmoid(Math.max(...zs) - 3);
}
