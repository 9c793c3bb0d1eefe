import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HardExampleLogger } from '../../src/server/hard-example-logger.ts';
import { LanceStore, type NewHardExample } from '../../src/store/index.ts';

const row = (id: string, embedding: number[]): NewHardExample => ({
  id,
  created_at: Date.now(),
  model_version: 'v0001',
  task: 'closed',
  question: 'Is there a pneumothorax?',
  answer: 'no.',
  token_probs: [0.4, 0.9],
  min_prob: 0.4,
  mean_logprob: -0.5,
  risk: 0.8,
  embedding: Float32Array.from(embedding),
  image_sha256: 'a'.repeat(64),
  source: 'live',
  request_id_hash: `hash-${id}`,
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
