import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/data/random.ts';
import type { HardExampleSink, NewHardExample } from '../../src/store/contract.ts';
import { LanceStore } from '../../src/store/lance-store.ts';
import { LazyStore } from '../../src/store/lazy-store.ts';
import { validateNewHardExample } from '../../src/store/rows.ts';
import { WriteQueue } from '../../src/store/write-queue.ts';
import { DIM, hardExample, tempStore } from './fixtures.ts';

function rows(n: number, seed: number): NewHardExample[] {
  const rng = Rng.derive(seed, 'queue-rows');
  return Array.from({ length: n }, (_, i) => hardExample(i, rng));
}

test('batching: 500 enqueued rows become 4 writes and 4 fragments, not 500', async () => {
  const { store, dispose } = await tempStore();
  try {
    const before = await store.stats('hard_examples');
    const queue = new WriteQueue<NewHardExample>({
      write: (batch) => store.addHardExamples(batch),
      batchSize: 128,
      flushIntervalMs: 60_000,
    });
    for (const row of rows(500, 1)) queue.enqueue(row);
    await queue.close();
    const after = await store.stats('hard_examples');
    assert.equal(after.rows, 500);
    assert.equal(after.fragments, 4);
    assert.equal(after.version - before.version, 4, 'one commit per batch');
    assert.equal(queue.stats().batchesWritten, 4);
  } finally {
    await dispose();
  }
});

test('compact() merges the fragments left by many small writes and prunes old versions', async () => {
  const { store, dispose } = await tempStore({ keepVersionsMs: 0 });
  try {
    for (const row of rows(24, 2)) await store.addHardExamples([row]);
    const fragmented = await store.stats('hard_examples');
    assert.equal(fragmented.fragments, 24);
    const reports = await store.compact();
    const report = reports.find((r) => r.table === 'hard_examples');
    assert.equal(report?.fragmentsRemoved, 24);
    assert.equal(report?.fragmentsAdded, 1);
    assert.ok((report?.oldVersionsRemoved ?? 0) > 0);
    const compacted = await store.stats('hard_examples');
    assert.equal(compacted.fragments, 1);
    assert.equal(compacted.rows, 24);
    assert.equal((await store.listHardExamples()).length, 24, 'the data survives compaction');
    assert.deepEqual(await store.compact(), await store.compact(), 'compacting a compacted store is a no-op');
  } finally {
    await dispose();
  }
});

test('the queue compacts the store every N batches', async () => {
  const { store, dispose } = await tempStore();
  try {
    const queue = new WriteQueue<NewHardExample>({
      write: (batch) => store.addHardExamples(batch),
      batchSize: 10,
      compact: () => store.compact(),
      compactEveryBatches: 6,
    });
    for (const row of rows(60, 3)) queue.enqueue(row);
    await queue.close();
    assert.equal(queue.stats().compactions, 1);
    const stats = await store.stats('hard_examples');
    assert.equal(stats.rows, 60);
    assert.equal(stats.fragments, 1, 'six fragments merged into one right after the sixth batch');
  } finally {
    await dispose();
  }
});

test('a store failing its first writes: rows are retried and all land in LanceDB, none twice', async () => {
  const { store, dispose } = await tempStore();
  try {
    let calls = 0;
    const flaky: HardExampleSink = {
      addHardExamples: async (batch) => {
        calls += 1;
        if (calls <= 3) throw new Error(`EROFS: read-only file system (injected, call ${calls})`);
        await store.addHardExamples(batch);
      },
    };
    const queue = new WriteQueue<NewHardExample>({
      write: (batch) => flaky.addHardExamples(batch),
      batchSize: 100,
      retryInitialMs: 5,
      validate: (row) => validateNewHardExample(row, DIM),
    });
    const input = rows(300, 4);
    for (const row of input) assert.equal(queue.enqueue(row), true);
    await queue.flush();
    assert.equal(queue.stats().failedAttempts, 3);
    assert.equal(queue.stats().written, 300);
    const stored = await store.listHardExamples();
    assert.deepEqual(stored.map((r) => r.id).sort(), input.map((r) => r.id).sort());
    await queue.close();
  } finally {
    await dispose();
  }
});

test('feedback after a flush labels the logged row; a row with a wrong vector is dropped at enqueue', async () => {
  const { store, dispose } = await tempStore();
  try {
    const queue = new WriteQueue<NewHardExample>({
      write: (batch) => store.addHardExamples(batch),
      validate: (row) => validateNewHardExample(row, DIM),
    });
    const [good, bad] = rows(2, 5);
    queue.enqueue(good);
    assert.equal(queue.enqueue({ ...bad, embedding: new Float32Array(DIM + 1) }), false);
    assert.equal(queue.stats().droppedBy.invalid, 1);
    await queue.flush();
    assert.equal(await store.setLabel(good.request_id_hash ?? '', 'yes'), 1);
    const [row] = await store.listHardExamples();
    assert.equal(row.label, 'yes');
    assert.equal(row.status, 'labelled');
    await queue.close();
  } finally {
    await dispose();
  }
});

test('a store that cannot be opened at start: rows queue up, and land once it opens (LazyStore)', async () => {
  const { dir, dispose } = await tempStore();
  let attempts = 0;
  const lazy = new LazyStore(async () => {
    attempts += 1;
    if (attempts <= 2) throw new Error('connect ECONNREFUSED (injected)');
    return LanceStore.open({ uri: dir, embeddingDim: DIM });
  });
  try {
    const queue = new WriteQueue<NewHardExample>({
      write: async (batch) => (await lazy.get()).addHardExamples(batch),
      batchSize: 50,
      retryInitialMs: 5,
    });
    const input = rows(120, 6);
    for (const row of input) queue.enqueue(row);
    assert.equal(lazy.current(), null);
    await queue.close();
    assert.equal(attempts, 3, 'one open attempt per failed write, then the store stays open');
    assert.equal(queue.stats().failedAttempts, 2);
    assert.equal(await (await lazy.get()).count('hard_examples'), 120);
  } finally {
    await lazy.close();
    await lazy.close();
    await dispose();
  }
});
