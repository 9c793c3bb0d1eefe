import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Engine, type EngineOptions } from '../../src/engine/index.ts';
import { createMetrics, engineObserver } from '../../src/server/metrics.ts';
import { until } from '../support/until.ts';
import { MODEL_NAME, type TempRegistry, tempRegistry, testPng } from './helpers.ts';

let reg: TempRegistry;
before(async () => {
  reg = await tempRegistry();
});
after(() => reg.cleanup());

const options = (extra: Partial<EngineOptions> = {}): EngineOptions => ({
  registryRoot: reg.registry.root,
  modelName: MODEL_NAME,
  workers: 2,
  executionProvider: 'cpu',
  maxQueue: 64,
  pollMs: 25,
  ...extra,
});

const ask = (engine: Engine, seed: number) =>
  engine.answer({
    image: testPng(seed),
    task: 'vqa',
    question: 'Is there a pleural effusion?',
    topLogprobs: 0,
  });

test('no CURRENT: not ready; the first published version is picked up by the watcher', async () => {
  const engine = Engine.create(options({ workers: 1 }));
  await engine.start();
  try {
    assert.equal(engine.status().ready, false);
    assert.match(engine.status().reason ?? '', /no CURRENT/);
    assert.equal(engine.canAdmit(), false);
    const v1 = await reg.publish(1);
    await until(() => engine.status().ready, 'the engine to load the published version', {
      state: () => engine.status().reason ?? 'ready',
    });
    assert.equal(engine.model?.version, v1);
  } finally {
    await engine.close();
  }
});

test('a killed worker fails only its in-flight requests with WORKER_FAILED and is replaced', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = await Engine.start(options({ watch: false, observer: engineObserver(metrics) }));
  try {
    const pool = engine.servingPool!;
    // Both workers hold their requests before any ORT call, so all four are in flight when the crash
    // comes however slow or fast the machine is (unpaused, one can finish before the fourth arrives).
    for (const worker of pool.workers) worker.pauseForTest();
    // Least-loaded dispatch: requests alternate between the two workers (once their images are prepared).
    const pending = [0, 1, 2, 3].map((i) =>
      ask(engine, i).then(
        () => 'ok',
        (error: { code?: string }) => error.code,
      ),
    );
    await until(() => pool.load === 4, 'four requests in flight on the paused workers', {
      state: () => `loads ${pool.workers.map((w) => w.load).join(', ')}`,
    });
    assert.deepEqual(
      pool.workers.map((w) => w.load),
      [2, 2],
    );
    const [crashed, survivor] = pool.workers;
    await crashed.crashForTest();
    survivor.resumeForTest();
    assert.deepEqual(await Promise.all(pending), ['WORKER_FAILED', 'ok', 'WORKER_FAILED', 'ok']);
    await until(() => pool.healthy === 2, 'the crashed worker to be replaced', {
      state: () => `${pool.healthy} healthy`,
    });
    assert.equal((await metrics.workerRestarts.get()).values[0].value, 1);
    assert.ok((await ask(engine, 9)).answer !== undefined);
  } finally {
    for (const worker of engine.servingPool?.workers ?? []) worker.resumeForTest();
    await engine.close();
  }
});

test('readiness drops while the only worker is dead and returns once it is replaced', async () => {
  const engine = await Engine.start(options({ watch: false, workers: 1 }));
  try {
    assert.equal(engine.status().ready, true);
    await engine.servingPool!.workers[0].crashForTest();
    assert.deepEqual(engine.status().ready, false, 'a pool without a live worker must not report ready');
    await until(() => engine.status().ready, 'readiness after the worker is replaced');
    assert.ok((await ask(engine, 5)).answer !== undefined);
  } finally {
    await engine.close();
  }
});

test('a swap under concurrent load drops no request; a corrupt or unloadable version is refused', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = await Engine.start(options({ observer: engineObserver(metrics) }));
  const before = engine.model!.version;
  let stop = false;
  try {
    let swapped = false;
    // Each answer with whether its request was sent after the engine reported the new version
    // (a request sent before may still finish on the old, draining pool: that is allowed).
    const seen: { version: string; sentAfterSwap: boolean }[] = [];
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        const sentAfterSwap = swapped;
        seen.push({ version: (await ask(engine, c * 100 + i)).model.version, sentAfterSwap });
      }
    };
    const clients = [0, 1, 2].map(client);
    await until(() => seen.length >= 6, 'six answers before the swap', { state: () => `${seen.length}` });
    const next = await reg.publish(2);
    await until(() => engine.model?.version === next, 'the engine to swap to the new version', {
      state: () => `serving ${engine.model?.version}`,
    });
    swapped = true;
    const afterSwap = () => seen.filter((s) => s.sentAfterSwap);
    await until(() => afterSwap().length >= 6, 'six answers to requests sent after the swap', {
      state: () => `${afterSwap().length}`,
    });
    stop = true;
    await Promise.all(clients); // any failed request would reject here
    assert.ok(seen.some((s) => s.version === before));
    assert.deepEqual(new Set(afterSwap().map((s) => s.version)), new Set([next]));

    const tampered = await reg.publish(3, { current: false });
    await appendFile(join(reg.registry.versionDir(tampered), 'prefill.onnx'), 'x');
    assert.equal(await engine.swap(tampered), false);
    const broken = await reg.publish(4, { current: false, brokenGraph: true });
    assert.equal(await engine.swap(broken), false);
    assert.equal(engine.model?.version, next);
    assert.equal(engine.status().ready, true);
    const failures = (await metrics.modelLoadFailures.get()).values;
    assert.deepEqual(failures.map((v) => [v.labels.stage, v.value]).sort(), [
      ['load', 1],
      ['verify', 1],
    ]);
    assert.equal((await ask(engine, 7)).model.version, next);
  } finally {
    stop = true;
    await engine.close();
  }
});
