import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/data/random.ts';
import type { PreferencePair, RunRecord } from '../../src/store/contract.ts';
import { StoreError } from '../../src/store/errors.ts';
import { LanceStore } from '../../src/store/lance-store.ts';
import { DIM, hardExample, poolSample, tempStore } from './fixtures.ts';

const isStoreError = (code: string) => (error: unknown) => error instanceof StoreError && error.code === code;

test('hard examples round-trip with vectors, lists, nulls and images', async () => {
  const { store, dispose } = await tempStore();
  try {
    const rng = Rng.derive(1, 'round-trip');
    const image = new Uint8Array([137, 80, 78, 71, 0, 255]);
    const written = [
      hardExample(0, rng, { image, token_probs: [0.9, 0.01] }),
      hardExample(1, rng, {
        label: '{"answer":"no"}',
        request_id_hash: null,
        source: 'benchmark',
        token_probs: [],
      }),
    ];
    await store.addHardExamples(written);
    const read = await store.listHardExamples();
    assert.equal(read.length, 2);
    const [a, b] = read;
    assert.equal(a.id, 'he-0');
    assert.equal(a.created_at, written[0].created_at);
    assert.ok(a.embedding instanceof Float32Array);
    assert.deepEqual(Array.from(a.embedding), Array.from(written[0].embedding));
    // list<float32>: values come back as their float32 roundings.
    assert.deepEqual(a.token_probs, [Math.fround(0.9), Math.fround(0.01)]);
    assert.equal(a.risk, 0.75);
    assert.equal(a.mean_logprob, Math.log(0.25));
    assert.equal(a.label, null);
    assert.equal(a.status, 'new');
    assert.equal(a.request_id_hash, 'req-0');
    assert.equal(a.source, 'live');
    assert.equal('image' in a, false);
    assert.deepEqual(b.token_probs, []);
    assert.equal(b.label, '{"answer":"no"}');
    assert.equal(b.status, 'labelled', 'a row written with a label starts labelled');
    assert.equal(b.request_id_hash, null);
    assert.equal(b.source, 'benchmark');
    const images = await store.getImages(['he-0', 'he-1', 'missing']);
    assert.deepEqual([...images.keys()], ['he-0']);
    assert.deepEqual(images.get('he-0'), image);
  } finally {
    await dispose();
  }
});

test('pool, pairs and runs round-trip; putRun replaces by id', async () => {
  const { store, dispose } = await tempStore();
  try {
    const rng = Rng.derive(2, 'tables');
    const pool = [poolSample(0, rng), poolSample(1, rng), poolSample(2, rng)];
    await store.addPool(pool);
    const readPool = (await store.listPool()).sort((x, y) => x.id.localeCompare(y.id));
    assert.deepEqual(
      readPool.map((p) => ({ ...p, embedding: Array.from(p.embedding) })),
      pool.map((p) => ({ ...p, embedding: Array.from(p.embedding) })),
    );
    assert.equal(readPool[2].finding, null);

    const pair: PreferencePair = {
      id: 'pair-1',
      round: 3,
      prompt: 'Is there a left pleural effusion?',
      image_ref: 'he-0',
      chosen: 'Yes: blunted left costophrenic angle.',
      rejected: 'No: the costophrenic angles are sharp.',
      kind: 'negation',
      weight: 0.5,
      provenance: JSON.stringify({ case: 'case-1', seed: 7 }),
    };
    await store.addPairs([pair, { ...pair, id: 'pair-2', round: 4, kind: 'laterality' }]);
    assert.deepEqual(await store.listPairs({ where: 'round = 3' }), [pair]);

    const run: RunRecord = {
      id: 'run-1',
      started_at: 1000,
      finished_at: null,
      status: 'running',
      record: '{}',
    };
    await store.putRun(run);
    await store.putRun({
      id: 'run-0',
      started_at: 500,
      finished_at: 900,
      status: 'failed',
      record: '{"e":1}',
    });
    assert.deepEqual(await store.getRun('run-1'), run);
    const done: RunRecord = { ...run, finished_at: 2000, status: 'promoted', record: '{"gate":"pass"}' };
    await store.putRun(done);
    assert.deepEqual(await store.getRun('run-1'), done);
    assert.equal(await store.count('runs'), 2, 'putRun upserts instead of appending');
    assert.equal(await store.getRun('nope'), null);
    assert.deepEqual(
      (await store.listRuns()).map((r) => r.id),
      ['run-1', 'run-0'],
    );
    assert.deepEqual(
      (await store.listRuns({ status: 'failed' })).map((r) => r.id),
      ['run-0'],
    );
  } finally {
    await dispose();
  }
});

test('listHardExamples filters by status, source and since, oldest first, with a limit', async () => {
  const { store, dispose } = await tempStore();
  try {
    const rng = Rng.derive(3, 'list');
    // Written out of order to check the sort.
    const rows = [5, 1, 4, 0, 3, 2].map((i) =>
      hardExample(i, rng, { source: i < 4 ? 'live' : 'benchmark', status: i % 2 === 0 ? 'new' : 'mined' }),
    );
    await store.addHardExamples(rows);
    const ids = async (options: Parameters<typeof store.listHardExamples>[0]) =>
      (await store.listHardExamples(options)).map((r) => r.id);
    assert.deepEqual(await ids({}), ['he-0', 'he-1', 'he-2', 'he-3', 'he-4', 'he-5']);
    assert.deepEqual(await ids({ status: 'new' }), ['he-0', 'he-2', 'he-4']);
    assert.deepEqual(await ids({ source: 'benchmark' }), ['he-4', 'he-5']);
    assert.deepEqual(await ids({ since: rows[4].created_at }), ['he-3', 'he-4', 'he-5']);
    assert.deepEqual(await ids({ status: 'new', since: rows[4].created_at, limit: 1 }), ['he-4']);
  } finally {
    await dispose();
  }
});

test('setLabel updates only the row with that request-id hash; setStatus moves rows by id', async () => {
  const { store, dispose } = await tempStore();
  try {
    const rng = Rng.derive(4, 'label');
    await store.addHardExamples([0, 1, 2].map((i) => hardExample(i, rng)));
    await store.addHardExamples([hardExample(3, rng, { request_id_hash: "it's-quoted" })]);
    assert.equal(await store.setLabel('req-1', '{"answer":"yes","by":"clinician"}'), 1);
    assert.equal(await store.setLabel("it's-quoted", 'no'), 1);
    assert.equal(await store.setLabel('req-unknown', 'x'), 0);
    const byId = new Map((await store.listHardExamples()).map((r) => [r.id, r]));
    assert.equal(byId.get('he-1')?.label, '{"answer":"yes","by":"clinician"}');
    assert.equal(byId.get('he-1')?.status, 'labelled');
    assert.equal(byId.get('he-3')?.label, 'no');
    for (const id of ['he-0', 'he-2']) {
      assert.equal(byId.get(id)?.label, null);
      assert.equal(byId.get(id)?.status, 'new');
    }
    assert.equal(await store.setStatus(['he-0', 'he-2', 'he-9'], 'mined'), 2);
    assert.equal(await store.count('hard_examples', "status = 'mined'"), 2);
    assert.equal(await store.setStatus([], 'used'), 0);
  } finally {
    await dispose();
  }
});

test('rows with a wrong vector length or a bad enum are refused before LanceDB sees them', async () => {
  const { store, dispose } = await tempStore();
  try {
    const rng = Rng.derive(5, 'invalid');
    await assert.rejects(
      store.addHardExamples([hardExample(0, rng, { embedding: new Float32Array(DIM - 1) })]),
      isStoreError('STORE_INVALID_VECTOR'),
    );
    const nan = new Float32Array(DIM);
    nan[3] = Number.NaN;
    await assert.rejects(
      store.addPool([poolSample(0, rng, { embedding: nan })]),
      isStoreError('STORE_INVALID_VECTOR'),
    );
    await assert.rejects(
      store.addHardExamples([hardExample(1, rng, { source: 'elsewhere' as 'live' })]),
      isStoreError('STORE_INVALID_ROW'),
    );
    await assert.rejects(
      store.nearest('pool', new Float32Array(3), { k: 1 }),
      isStoreError('STORE_INVALID_VECTOR'),
    );
    assert.equal(await store.count('hard_examples'), 0);
    assert.equal(await store.count('pool'), 0);
  } finally {
    await dispose();
  }
});

test('reopening keeps the data; another embeddingDim is a schema mismatch; close is idempotent', async () => {
  const { store, dir, dispose } = await tempStore();
  try {
    await store.addPool([poolSample(0, Rng.derive(6, 'reopen'))]);
    await store.close();
    await store.close();
    await assert.rejects(store.count('pool'), isStoreError('STORE_CLOSED'));

    const again = await LanceStore.open({ uri: dir, embeddingDim: DIM });
    assert.equal(await again.count('pool'), 1);
    await again.close();
    await assert.rejects(
      LanceStore.open({ uri: dir, embeddingDim: DIM * 2 }),
      isStoreError('STORE_SCHEMA_MISMATCH'),
    );
  } finally {
    await dispose();
  }
});

test('a bad SQL filter is a coded backend error', async () => {
  const { store, dispose } = await tempStore();
  try {
    await assert.rejects(store.count('pool', 'nonsense ==== 3'), isStoreError('STORE_BACKEND_FAILED'));
  } finally {
    await dispose();
  }
});

test('listAnswers: newest first, by window and flag, without images; imageIds and getImages read either table', async () => {
  const { store, dispose } = await tempStore();
  try {
    const rng = Rng.derive(2, 'answers');
    const record = (i: number, flagged: boolean, image: Uint8Array | null) => {
      const { source: _s, label: _l, status: _t, request_id_hash: _h, ...row } = hardExample(i, rng);
      return {
        ...row,
        id: `ans-${i}`,
        created_at: 1_000 * (i + 1),
        request_id_hash: `req-${i}`,
        key_hash: 'k'.repeat(64),
        answer_prob: 0.5,
        flagged,
        input_warnings: i === 1 ? 'lateral_view' : '',
        image,
      };
    };
    const png = new Uint8Array([137, 80, 78, 71, 1]);
    await store.addAnswers([record(0, true, png), record(1, false, null), record(2, true, null)]);
    assert.deepEqual(
      (await store.listAnswers()).map((r) => r.id),
      ['ans-2', 'ans-1', 'ans-0'],
    );
    assert.deepEqual(
      (await store.listAnswers({ since: 2_000 })).map((r) => r.id),
      ['ans-2', 'ans-1'],
    );
    assert.deepEqual(
      (await store.listAnswers({ flagged: true, limit: 1 })).map((r) => r.id),
      ['ans-2'],
    );
    const [one] = await store.listAnswers({ flagged: false });
    assert.equal(one.input_warnings, 'lateral_view');
    assert.equal('image' in one, false);
    assert.deepEqual([...(await store.imageIds('answers', ['ans-0', 'ans-1', 'nope']))], ['ans-0']);
    assert.deepEqual([...((await store.getImages(['ans-0'], 'answers')).get('ans-0') ?? [])], [...png]);
    assert.equal((await store.imageIds('hard_examples', ['ans-0'])).size, 0);
  } finally {
    await dispose();
  }
});
