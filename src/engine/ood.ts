/**
 * Out-of-distribution score of an image, in [0, 1], from the version's `ood.json` reference:
 *
 *   { "schema": "chexpo.ood/1",
 *     "centroid": [E numbers],            mean training embedding (need not be unit length)
 *     "distance": { "mean": m, "std": s }, cosine distance 1 − cos(e, centroid) on training images
 *     "intensity": { "mean": [μ, σ], "std": [μ, σ] } }  model-input pixel mean/std over training images
 *
 * Each part is a z-score z = (x − μ)/σ (only the "further than usual" side counts); the score is
 * σ(z_max − 3): ~0 inside three standard deviations, → 1 far outside. Intensity statistics catch
 * images whose windowing or content is implausible even when the random or under-trained encoder
 * maps them close to the centroid. Without ood.json the score is 0 (unknown, not "in distribution":
 * docs/serving.md says so).
 */
export interface OodReference {
  schema: 'chexpo.ood/1';
  centroid: number[];
  distance: { mean: number; std: number };
  intensity?: { mean: [number, number]; std: [number, number] };
}

export class OodError extends Error {
  readonly code = 'ENGINE_BAD_OOD_REFERENCE';
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function parseOodReference(json: unknown, embeddingDim: number): OodReference {
  const j = json as Partial<OodReference> | null;
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
  return j as OodReference;
}

/** Mean and standard deviation of a model input. */
export function intensityStats(input: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of input) sum += v;
  const mean = sum / input.length;
  let sq = 0;
  for (const v of input) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / input.length) };
}

export function oodScore(
  ref: OodReference | undefined,
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
