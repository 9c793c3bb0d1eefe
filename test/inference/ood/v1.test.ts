import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import {
  type ImageFeatures,
  OodReference,
  parseOodReference,
  quantileOf,
} from '../../../src/inference/ood/index.ts';

const DIM = 8;

/** Embeddings around one direction (a tight cluster), with phantom-like intensity statistics. */
function inDistribution(n: number, rng: Rng): ImageFeatures[] {
  return Array.from({ length: n }, () => ({
    embedding: Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0) + rng.normal(0, 0.1)),
    intensity: { mean: rng.normal(-0.5, 0.05), std: rng.normal(1, 0.05) },
  }));
}

test('quantileOf: plotting positions, linear inside, exponential tail beyond the largest value', () => {
  const sorted = [1, 2, 3, 4];
  assert.equal(quantileOf(sorted, 2), 2 / 5);
  assert.equal(quantileOf(sorted, 2.5), 2.5 / 5);
  assert.equal(quantileOf(sorted, 0.5), 0.5 / 5);
  assert.equal(quantileOf(sorted, 0), 0);
  assert.equal(quantileOf(sorted, 4), 4 / 5);
  const near = quantileOf(sorted, 4.5);
  const far = quantileOf(sorted, 40);
  assert.ok(near > 0.8 && near < far && far < 1 && far > 0.999);
  for (let x = -1; x < 50; x += 0.37) assert.ok(quantileOf(sorted, x) <= quantileOf(sorted, x + 0.37));
  assert.equal(quantileOf([], 3), 0);
});

test('OOD reference: held-out images spread over [0, 1], shifted embeddings and intensities score near 1', () => {
  const rng = Rng.derive(1, 'ood');
  const reference = inDistribution(200, rng);
  const heldOut = inDistribution(60, rng);
  const ood = OodReference.fit(reference, heldOut, { k: 5 });
  const fresh = inDistribution(200, rng).map((f) => ood.score(f.embedding, f.intensity));
  const mean = fresh.reduce((s, x) => s + x, 0) / fresh.length;
  assert.ok(mean > 0.3 && mean < 0.7, `new in-distribution images: mean score ${mean}`);
  assert.ok(fresh.every((s) => s >= 0 && s <= 1));

  const typical = { mean: -0.5, std: 1 };
  const otherDirection = Float32Array.from({ length: DIM }, (_, i) => (i === 1 ? 1 : 0));
  const embeddingShift = ood.details(otherDirection, typical);
  assert.ok(embeddingShift.score > 0.98, `other direction: ${JSON.stringify(embeddingShift)}`);
  assert.ok(embeddingShift.intensity_quantile < 0.9);

  const onCluster = Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0));
  const bright = ood.details(onCluster, { mean: 1.5, std: 1 });
  assert.ok(bright.score > 0.98 && bright.embedding_quantile < 0.5, `bright: ${JSON.stringify(bright)}`);
  assert.ok(ood.score(onCluster, typical) < 0.6);
});

test('OOD JSON: round trip, scale-free embeddings, and the engine can read the centroid part', () => {
  const rng = Rng.derive(2, 'ood');
  const ood = OodReference.fit(inDistribution(50, rng), inDistribution(20, rng));
  const back = OodReference.fromJSON(JSON.parse(JSON.stringify(ood.toJSON())));
  const probe = inDistribution(5, rng);
  for (const p of probe) {
    assert.equal(back.score(p.embedding, p.intensity), ood.score(p.embedding, p.intensity));
    const scaled = p.embedding.map((v) => v * 7);
    assert.ok(Math.abs(ood.knnDistance(scaled) - ood.knnDistance(p.embedding)) < 1e-6);
  }
  assert.doesNotThrow(() => parseOodReference(ood.toJSON(), DIM));
  assert.throws(() => OodReference.fromJSON({ schema: 'chexpo.ood/1', centroid: [] }), /k-NN/);
  assert.throws(() => ood.knnDistance(new Float32Array(3)), /reference 8/);
  assert.throws(() => OodReference.fit([], probe), /no reference/);
});
