/**
 * The out-of-distribution module: fits a version's `ood.json` (`OodDetector.fit`, chexpo.ood/2, run by
 * release) and scores images with any version's, whichever schema it has: chexpo.ood/2 (./detector.ts,
 * since v0003) or chexpo.ood/1 (./v1.ts, v0001–v0002: the k-NN form, or the centroid form alone).
 */
import { OodDetector } from './detector.ts';
import { intensityStats } from './stats.ts';
import { centroidScore, OodReference, parseOodReference } from './v1.ts';

export {
  type DetectorFeatures,
  type DetectorFitOptions,
  IMAGE_STAT_NAMES,
  imageStatistics,
  type OodDetails,
  OodDetector,
  type OodDetectorJSON,
} from './detector.ts';
export { type IntensityStats, intensityStats, quantileOf } from './stats.ts';
export {
  type CentroidReference,
  centroidScore,
  type ImageFeatures,
  type OodFitOptions,
  type OodJSON,
  OodReference,
  parseOodReference,
} from './v1.ts';

/** Scores an image from its embedding and model input: ~uniform on [0, 1] in distribution. */
export interface OodScorer {
  score(embedding: ArrayLike<number>, input: Float32Array): number;
  /** Scores above this are out of distribution (1 − the false-flag rate the version was fitted for). */
  flagQuantile: number;
}

/**
 * The scorer of an ood.json: the chexpo.ood/2 detector, or a chexpo.ood/1 k-NN reference (v0001–v0002,
 * flagged past the 99th held-out percentile as before); undefined for anything else.
 */
export function oodScorerFromJson(json: unknown): OodScorer | undefined {
  if (OodDetector.isDetectorJSON(json)) {
    const d = OodDetector.fromJSON(json);
    return { score: (e, input) => d.score(e, input), flagQuantile: d.flagQuantile };
  }
  if ((json as { knn?: unknown } | null)?.knn !== undefined) {
    const knn = OodReference.fromJSON(json);
    return { score: (e, input) => knn.score(e, intensityStats(input)), flagQuantile: 0.99 };
  }
  return undefined;
}

/**
 * The serving engine's scorer of an ood.json: as `oodScorerFromJson`, and a chexpo.ood/1 file
 * without its k-NN part by its centroid; none → 0 (unknown, not "in distribution").
 */
export function oodScorer(
  json: unknown,
  embeddingDim: number,
): (embedding: Float32Array, input: Float32Array) => number {
  if (json === undefined) return () => 0;
  const fitted = oodScorerFromJson(json);
  if (fitted) return (embedding, input) => fitted.score(embedding, input);
  const centroid = parseOodReference(json, embeddingDim);
  return (embedding, input) => centroidScore(centroid, embedding, input);
}
