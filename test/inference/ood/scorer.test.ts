import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import { intensityStats, OodReference, oodScorer } from '../../../src/inference/ood/index.ts';

const DIM = 8;
function image(rng: Rng, mean: number): { embedding: Float32Array; input: Float32Array } {
  const input = Float32Array.from({ length: 64 }, () => rng.normal(mean, 0.5));
  const embedding = Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : rng.normal(0, 0.05)));
  return { embedding, input };
}

test('ood.json from chexpo eval (k-NN) and the centroid form both score; none scores 0', () => {
  const rng = new Rng(3);
  const features = (n: number) =>
    Array.from({ length: n }, () => image(rng, 0)).map(({ embedding, input }) => ({
      embedding,
      intensity: intensityStats(input),
    }));
  const json = OodReference.fit(features(40), features(40)).toJSON();
  const score = oodScorer(json, DIM);
  const typical = image(rng, 0);
  const odd = image(rng, 3);
  assert.ok(score(odd.embedding, odd.input) > score(typical.embedding, typical.input));
  assert.ok(score(odd.embedding, odd.input) > 0.9);
  const { knn: _knn, ...centroidOnly } = json;
  const centroid = oodScorer(centroidOnly, DIM);
  assert.ok(centroid(odd.embedding, odd.input) > centroid(typical.embedding, typical.input));
  assert.equal(oodScorer(undefined, DIM)(odd.embedding, odd.input), 0);
});
