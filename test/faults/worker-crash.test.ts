/**
 * Fault: an inference worker thread dies with requests on it, seen through HTTP (bundled release,
 * two workers, buildApp). The engine-level behaviour is in test/engine/lifecycle.test.ts; this adds
 * what a client and an operator see: the dead worker's requests answer 500 with the stable code
 * WORKER_FAILED and a message without internals, the other worker's answer 200, /metrics counts the
 * errors and the restart, and the replaced worker serves the next request.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { ERROR_CATALOGUE } from '../../src/errors/public.ts';
import { EngineAnswerService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { createMetrics, engineObserver } from '../../src/server/metrics.ts';
import { testPng } from '../engine/helpers.ts';
import { ANSWER_KEY, bearer, testConfig } from '../server/helpers.ts';
import { until } from '../support/until.ts';
import { MODEL_NAME, type ReleaseRegistry, releaseRegistry } from './release-registry.ts';

let reg: ReleaseRegistry;
before(async () => {
  reg = await releaseRegistry();
});
after(() => reg.cleanup());

test('a worker crash mid-inference: its requests get 500 WORKER_FAILED, the others 200, counted, worker replaced', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = await Engine.start({
    registryRoot: reg.registryRoot,
    modelName: MODEL_NAME,
    workers: 2,
    executionProvider: 'cpu',
    maxQueue: 16,
    watch: false,
    observer: engineObserver(metrics),
  });
  const app = await buildApp({
    config: testConfig(),
    metrics,
    answerService: new EngineAnswerService({ engine, riskThreshold: 1 }),
    modelStatus: () => engine.status(),
  });
  const ask = (seed: number) =>
    app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: bearer(ANSWER_KEY),
      payload: { image: Buffer.from(testPng(seed)).toString('base64'), task: 'report' },
    });
  try {
    const pool = engine.servingPool!;
    // Both workers hold their requests before any ORT call, so all four are in flight at the crash.
    for (const worker of pool.workers) worker.pauseForTest();
    const replies = [0, 1, 2, 3].map(ask);
    await until(() => pool.load === 4, 'four requests in flight on the paused workers', {
      everyMs: 5,
      state: () => `loads ${pool.workers.map((w) => w.load).join(', ')}`,
    });
    const onCrashed = pool.workers[0].load;
    await pool.workers[0].crashForTest();
    pool.workers[1].resumeForTest();
    const answered = await Promise.all(replies);

    const statuses = answered.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [...Array(4 - onCrashed).fill(200), ...Array(onCrashed).fill(500)].sort());
    for (const reply of answered.filter((r) => r.statusCode === 500)) {
      assert.deepEqual(reply.json(), {
        error: { code: 'WORKER_FAILED', message: ERROR_CATALOGUE.WORKER_FAILED.message },
      });
    }
    await until(() => pool.healthy === 2, 'the crashed worker to be replaced', {
      state: () => `${pool.healthy}`,
    });
    const text = (await app.inject({ url: '/metrics' })).body;
    assert.match(text, new RegExp(`chexpo_http_errors_total\\{code="WORKER_FAILED"\\} ${onCrashed}\\n`));
    assert.match(text, /chexpo_engine_worker_restarts_total 1\n/);
    assert.match(text, /chexpo_engine_workers_healthy 2\n/);
    for (const seed of [8, 9]) assert.equal((await ask(seed)).statusCode, 200);
  } finally {
    for (const worker of engine.servingPool?.workers ?? []) worker.resumeForTest();
    await app.close();
    await engine.close();
  }
});
