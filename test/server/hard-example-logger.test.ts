import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HardExampleLogger } from '../../src/server/hard-example-logger.ts';
import { LanceStore, type NewHardExample } from '../../src/store/index.ts';
import { liveRow } from './fixtures/live-row.ts';

const row = (id: string, embedding: number[]): NewHardExample => ({
  ...liveRow(id, { embedding }),
  created_at: Date.now(),
});

test('a row of another embedding width (a swapped model) is refused alone; the batch around it is stored', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-logger-'));
  try {
    const logger = new HardExampleLogger({ uri: dir, queue: { flushIntervalMs: 60_000 } });
    assert.equal(logger.enqueue(row('a', [1, 0, 0, 0])), true);
    logger.enqueue(row('b', [0, 1, 0])); // the new model's narrower embedding
    logger.enqueue(row('c', [0, 0, 1, 0]));
    await logger.close();
    const store = await LanceStore.open({ uri: dir, embeddingDim: 4 });
    try {
      const ids = (await store.listHardExamples({ limit: 10 })).map((r) => r.id).sort();
      assert.deepEqual(ids, ['a', 'c']);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the logger compacts the store between writes, so fragments do not pile up', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-logger-'));
  try {
    const logger = new HardExampleLogger({
      uri: dir,
      queue: { flushIntervalMs: 60_000, batchSize: 1, compactEveryBatches: 3 },
    });
    for (let i = 0; i < 6; i++) {
      logger.enqueue(row(`r${i}`, [1, 0, 0, i]));
      await logger.flush();
    }
    await logger.close();
    const store = await LanceStore.open({ uri: dir, embeddingDim: 4 });
    try {
      const stats = await store.stats('hard_examples');
      assert.equal(stats.rows, 6);
      assert.ok(stats.fragments < 6, `6 one-row writes left ${stats.fragments} fragments`);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
