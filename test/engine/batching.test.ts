import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { createMetrics, engineObserver } from '../../src/server/metrics.ts';
import { until } from '../support/until.ts';
import { histogramCounts, MODEL_NAME, type TempRegistry, tempRegistry, testPng } from './helpers.ts';

let reg: TempRegistry;
let engine: Engine;
const metrics = createMetrics({ defaultMetrics: false });
before(async () => {
  reg = await tempRegistry();
  await reg.publish(5);
  // One worker, so every concurrent request meets the others in the same scheduler.
  engine = await Engine.start({
    registryRoot: reg.registry.root,
    modelName: MODEL_NAME,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 64,
    watch: false,
    observer: engineObserver(metrics),
  });
});
after(async () => {
  await engine.close();
  await reg.cleanup();
});

const report = (seed: number) => engine.answer({ image: testPng(seed), task: 'report', topLogprobs: 0 });
const question = (seed: number) =>
  engine.answer({ image: testPng(seed), task: 'vqa', question: 'Is there cardiomegaly?', topLogprobs: 0 });

test('a request answers the same alone and when it joins a running batch (iteration-level batching)', async () => {
  const alone = await question(42);
  // Reports start first; the question arrives while they decode and joins between two steps.
  const running = [1, 2, 3].map(report);
  // Wait until all three reports are encoded (1 + 3 rows) and decoding, then send the question.
  await until(
    async () => (await histogramCounts(metrics.batchSize, { stage: 'encode' })).sum >= 4,
    'the three reports to be encoded',
    { everyMs: 1 },
  );
  await until(
    async () => (await histogramCounts(metrics.batchSize, { stage: 'decode' })).count >= 2,
    'two decode steps of the reports',
    { everyMs: 1 },
  );
  const encodesBefore = (await histogramCounts(metrics.batchSize, { stage: 'encode' })).count;
  const joined = await question(42);
  await Promise.all(running);
  assert.deepEqual(
    joined.tokens.map((t) => t.token),
    alone.tokens.map((t) => t.token),
  );
  joined.tokens.forEach((t, i) => {
    assert.ok(Math.abs(t.logprob - alone.tokens[i].logprob) < 1e-4, `token ${i}`);
  });
  const decode = await histogramCounts(metrics.batchSize, { stage: 'decode' });
  assert.ok(decode.count > decode.atMostOne, 'some decode steps ran more than one request');
  const encode = await histogramCounts(metrics.batchSize, { stage: 'encode' });
  // The question was encoded on its own and joined the reports' running batch.
  assert.equal(encode.count, encodesBefore + 1);
});

test('the HTTP thread stays responsive while a batch runs in the worker', async () => {
  const probe = monitorEventLoopDelay({ resolution: 1 });
  probe.enable();
  const started = performance.now();
  await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? report(i) : question(i))));
  const elapsedMs = performance.now() - started;
  probe.disable();
  const maxDelayMs = probe.max / 1e6;
  // Had inference run on this thread, one stall would last about as long as the whole batch.
  assert.ok(
    maxDelayMs < elapsedMs / 3,
    `max event-loop delay ${maxDelayMs} ms during ${elapsedMs} ms of inference`,
  );
  const tokens = (await metrics.tokensGenerated.get()).values.reduce((s, v) => s + v.value, 0);
  assert.ok(tokens > 24);
  const ttft = await histogramCounts(metrics.timeToFirstToken, { task: 'report' });
  assert.ok(ttft.count >= 12);
});
