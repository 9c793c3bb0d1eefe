import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rng } from '../../src/data/random.ts';
import type { PoolSample } from '../../src/store/contract.ts';
import type { LanceStore } from '../../src/store/lance-store.ts';
import { hardExample, poolSample, tempStore, unitVector } from './fixtures.ts';

const N = 200;
const K = 10;

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(na * nb);
}

function squaredL2(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/** Brute force: the k rows nearest to `query` among those passing `keep`, nearest first. */
function bruteForce(
  rows: PoolSample[],
  query: Float32Array,
  k: number,
  keep: (r: PoolSample) => boolean = () => true,
) {
  return rows
    .filter(keep)
    .map((row) => ({ id: row.id, distance: cosineDistance(query, row.embedding) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, k);
}

let store: LanceStore;
let dispose: () => Promise<void>;
let pool: PoolSample[];

before(async () => {
  ({ store, dispose } = await tempStore());
  const rng = Rng.derive(11, 'nearest');
  pool = Array.from({ length: N }, (_, i) => poolSample(i, rng));
  // Several writes, so the search spans fragments as it will in production.
  for (let start = 0; start < N; start += 50) await store.addPool(pool.slice(start, start + 50));
});

after(async () => {
  await dispose();
});

test('nearest returns exactly the brute-force cosine top-k, nearest first', async () => {
  const rng = Rng.derive(12, 'queries');
  for (let q = 0; q < 5; q++) {
    const query = unitVector(rng);
    const expected = bruteForce(pool, query, K);
    const got = await store.nearest('pool', query, { k: K });
    assert.deepEqual(
      got.map((n) => n.row.id),
      expected.map((e) => e.id),
    );
    for (let i = 0; i < K; i++) assert.ok(Math.abs(got[i].distance - expected[i].distance) < 1e-5);
    for (let i = 1; i < K; i++) assert.ok(got[i - 1].distance <= got[i].distance);
  }
});

test('for unit vectors the cosine order is the squared-L2 order, with ‖a − b‖² = 2 · distance', async () => {
  const query = unitVector(Rng.derive(13, 'l2'));
  const got = await store.nearest('pool', query, { k: K });
  const byL2 = pool
    .map((row) => ({ id: row.id, d2: squaredL2(query, row.embedding) }))
    .sort((a, b) => a.d2 - b.d2)
    .slice(0, K);
  assert.deepEqual(
    got.map((n) => n.row.id),
    byL2.map((e) => e.id),
  );
  for (let i = 0; i < K; i++) assert.ok(Math.abs(2 * got[i].distance - byL2[i].d2) < 1e-4);
});

test('a query equal to a stored vector finds that row at distance ~0, with its fields decoded', async () => {
  const target = pool[37];
  const [first] = await store.nearest('pool', target.embedding, { k: 1 });
  assert.equal(first.row.id, target.id);
  assert.ok(Math.abs(first.distance) < 1e-6);
  assert.deepEqual(
    { ...first.row, embedding: Array.from(first.row.embedding) },
    {
      ...target,
      embedding: Array.from(target.embedding),
    },
  );
});

test('the where filter is applied before ranking (prefilter), so k filtered rows come back', async () => {
  const rng = Rng.derive(14, 'filtered');
  for (let q = 0; q < 3; q++) {
    const query = unitVector(rng);
    const keep = (r: PoolSample) => r.finding === 'nodule' && r.split === 'train';
    const expected = bruteForce(pool, query, K, keep);
    assert.equal(expected.length, K, 'enough matching rows for the check to mean something');
    const got = await store.nearest('pool', query, { k: K, where: "finding = 'nodule' AND split = 'train'" });
    assert.deepEqual(
      got.map((n) => n.row.id),
      expected.map((e) => e.id),
    );
    for (const n of got) assert.ok(keep(n.row));
  }
  const none = await store.nearest('pool', unitVector(rng), {
    k: K,
    where: "finding IS NULL AND split = 'test'",
  });
  assert.deepEqual(none, []);
});

test('nearest on hard_examples returns hard examples without image bytes', async () => {
  const rng = Rng.derive(15, 'hard');
  const rows = Array.from({ length: 20 }, (_, i) =>
    hardExample(i, rng, { image: new Uint8Array([i]), status: i < 10 ? 'labelled' : 'new' }),
  );
  await store.addHardExamples(rows);
  const query = rows[12].embedding;
  const got = await store.nearest('hard_examples', query, { k: 3, where: "status = 'new'" });
  assert.equal(got[0].row.id, 'he-12');
  assert.equal(got.length, 3);
  for (const n of got) {
    assert.equal(n.row.status, 'new');
    assert.equal('image' in n.row, false);
  }
});
