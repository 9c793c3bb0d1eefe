/**
 * Fault: the LanceDB directory turns read-only (chmod) while the server answers, then heals.
 * The real engine on the bundled release answers through buildApp; the real HardExampleLogger
 * writes to a real LanceDB directory. Answers must keep flowing, failed writes stay queued and are
 * retried, rows beyond the queue's room are dropped and counted in /metrics, and after the chmod
 * back every queued row lands.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { EngineAnswerService, StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { HardExampleLogger, hashRequestId } from '../../src/server/hard-example-logger.ts';
import { createMetrics, engineObserver } from '../../src/server/metrics.ts';
import { testPng } from '../engine/helpers.ts';
import { bearer, CLINIC_KEY, keyIdOf, testConfig } from '../server/helpers.ts';
import { until } from '../support/until.ts';
import { chmodTree, MODEL_NAME, type ReleaseRegistry, releaseRegistry } from './release-registry.ts';
import { rerunUnprivileged } from './unprivileged.ts';

const QUEUE_CAPACITY = 6;

if (!rerunUnprivileged(import.meta.url)) {
  let reg: ReleaseRegistry;
  before(async () => {
    reg = await releaseRegistry();
  });
  after(async () => {
    await chmodTree(reg.root, 0o755, 0o644).catch(() => undefined);
    await reg.cleanup();
  });

  test('a read-only store: answers flow, writes are retried from the bounded queue, overflow is counted, rows land after the fix', async () => {
    const storeDir = join(reg.root, 'store');
    const metrics = createMetrics({ defaultMetrics: false });
    const logs: { event: string; details: Record<string, unknown> }[] = [];
    const engine = await Engine.start({
      registryRoot: reg.registryRoot,
      modelName: MODEL_NAME,
      workers: 1,
      executionProvider: 'cpu',
      maxQueue: 16,
      watch: false,
      observer: engineObserver(metrics),
    });
    const logger = new HardExampleLogger({
      uri: storeDir,
      embeddingDim: () => engine.embeddingDim,
      metrics,
      log: (event, details) => logs.push({ event, details }),
      queue: { capacity: QUEUE_CAPACITY, batchSize: 4, flushIntervalMs: 10, retryInitialMs: 20 },
    });
    const app = await buildApp({
      config: testConfig({ CHEXPO_RISK_THRESHOLD: '0' }),
      metrics,
      answerService: new EngineAnswerService({ engine, logger, riskThreshold: 0 }),
      feedbackService: new StoreFeedbackService(logger),
      modelStatus: () => engine.status(),
    });
    const ask = async (id: string, seed: number) => {
      const reply = await app.inject({
        method: 'POST',
        url: '/v1/answer',
        headers: bearer(CLINIC_KEY),
        payload: {
          image: Buffer.from(testPng(seed)).toString('base64'),
          question: 'Is there a pleural effusion?',
          request_id: id,
        },
      });
      assert.equal(reply.statusCode, 200, reply.body);
      return reply.json() as { flagged: boolean };
    };
    const metric = async (name: string): Promise<number> => {
      const text = (await app.inject({ url: '/metrics' })).body;
      const line = text.split('\n').find((l) => l.startsWith(`${name}{table="hard_examples"}`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    try {
      // Healthy: the store opens and takes two rows.
      for (const i of [0, 1]) assert.equal((await ask(`healthy-${i}`, i)).flagged, true);
      assert.deepEqual(await logger.flush(), { pending: 0 });
      const store = await logger.openStore();
      assert.equal(await store.count('hard_examples'), 2);

      // Fault: the whole store tree read-only. Check it bites (it would not for root).
      await chmodTree(storeDir, 0o555, 0o444);
      await assert.rejects(writeFile(join(storeDir, 'probe'), 'x'), { code: 'EACCES' });

      const flagged: boolean[] = [];
      for (let i = 0; i < QUEUE_CAPACITY + 4; i++) flagged.push((await ask(`during-${i}`, 10 + i)).flagged);
      await until(
        async () => (await metric('chexpo_store_write_failures_total')) > 0,
        'a counted store write failure',
        { everyMs: 20 },
      );
      // The queue holds what it has room for; the rest is dropped, counted, and not reported as flagged.
      assert.deepEqual(flagged, [...Array(QUEUE_CAPACITY).fill(true), ...Array(4).fill(false)]);
      assert.equal(await metric('chexpo_store_writes_dropped_total'), 4);
      assert.ok(logs.some((l) => l.event === 'write_failed'));
      assert.ok(logs.some((l) => l.event === 'rows_dropped' && l.details.reason === 'full'));
      assert.ok(
        logs.every((l) => !JSON.stringify(l).includes('during-')),
        'logs carry no request ids',
      );
      assert.equal(await store.count('hard_examples'), 2, 'nothing was written while read-only');

      // Feedback needs a store write: a coded 503, not a 500.
      const feedback = await app.inject({
        method: 'POST',
        url: '/v1/feedback',
        headers: bearer(CLINIC_KEY),
        payload: { request_id: 'healthy-0', verdict: 'correct' },
      });
      assert.equal(feedback.statusCode, 503, feedback.body);
      assert.equal(feedback.json().error.code, 'FEEDBACK_UNAVAILABLE');

      // Heal: every queued row lands (the retries reopen nothing: the same handle writes again).
      await chmodTree(storeDir, 0o755, 0o644);
      assert.deepEqual(await logger.flush(15_000), { pending: 0 });
      const rows = await store.listHardExamples({ limit: 100 });
      const expected = [
        'healthy-0',
        'healthy-1',
        ...Array.from({ length: QUEUE_CAPACITY }, (_, i) => `during-${i}`),
      ];
      assert.deepEqual(
        rows.map((r) => r.request_id_hash).sort(),
        expected.map((id) => hashRequestId(keyIdOf(CLINIC_KEY), id)).sort(),
      );
      assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'no row written twice');

      // And the store keeps working: a new answer is stored, feedback labels it.
      assert.equal((await ask('after', 99)).flagged, true);
      assert.deepEqual(await logger.flush(), { pending: 0 });
      assert.equal(await store.count('hard_examples'), expected.length + 1);
      const labelled = await app.inject({
        method: 'POST',
        url: '/v1/feedback',
        headers: bearer(CLINIC_KEY),
        payload: { request_id: 'during-0', verdict: 'incorrect', correct_answer: 'no' },
      });
      assert.equal(labelled.statusCode, 200, labelled.body);
    } finally {
      await app.close();
      await engine.close();
      await logger.close();
    }
  });
}
