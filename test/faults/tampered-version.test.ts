/**
 * Fault: bad model versions offered to a serving engine (bundled release behind buildApp), directly
 * and through CURRENT: a flipped byte (sha256 mismatch), a deleted file, a version that loads but
 * fails its warm-up, and a truncated ONNX graph. None is ever served; the release keeps answering
 * throughout; each refusal is counted in /metrics by stage and logged with the version and cause.
 * (test/engine/lifecycle.test.ts covers an appended byte and a text file in place of a graph.)
 */
import assert from 'node:assert/strict';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { EngineAnswerService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { createMetrics, engineObserver } from '../../src/server/metrics.ts';
import { testPng } from '../engine/helpers.ts';
import { ANSWER_KEY, bearer, testConfig } from '../server/helpers.ts';
import { until } from '../support/until.ts';
import { BUNDLED_VERSION, MODEL_NAME, type ReleaseRegistry, releaseRegistry } from './release-registry.ts';

let reg: ReleaseRegistry;
before(async () => {
  reg = await releaseRegistry();
});
after(() => reg.cleanup());

async function flipByte(path: string, at: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, at);
    byte[0] ^= 0xff;
    await file.write(byte, 0, 1, at);
  } finally {
    await file.close();
  }
}

test('tampered, incomplete and un-warmable versions are never served; the release keeps answering', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const logs: { level: string; message: string; details?: Record<string, unknown> }[] = [];
  const engine = await Engine.start({
    registryRoot: reg.registryRoot,
    modelName: MODEL_NAME,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 16,
    pollMs: 20,
    observer: engineObserver(metrics),
    log: (level, message, details) => logs.push({ level, message, details }),
  });
  const app = await buildApp({
    config: testConfig(),
    metrics,
    answerService: new EngineAnswerService({ engine, riskThreshold: 1 }),
    modelStatus: () => engine.status(),
  });
  // A client asking all along: every answer must come from the release.
  const served: string[] = [];
  let stop = false;
  const client = (async () => {
    for (let i = 0; !stop; i++) {
      const reply = await app.inject({
        method: 'POST',
        url: '/v1/answer',
        headers: bearer(ANSWER_KEY),
        payload: { image: Buffer.from(testPng(i)).toString('base64'), question: 'Is there a pneumothorax?' },
      });
      assert.equal(reply.statusCode, 200, reply.body);
      served.push(reply.json().model.version);
    }
  })();
  const refusals = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await metrics.modelLoadFailures.get()).values.map((v) => [String(v.labels.stage), v.value]),
    );
  try {
    const flipped = await reg.publishVariant();
    await flipByte(join(reg.registry.versionDir(flipped), 'weights.safetensors'), 4096);
    const missing = await reg.publishVariant();
    await rm(join(reg.registry.versionDir(missing), 'tokenizer.json'));
    // Hashes verify and the graphs load, but the first run feeds a 32 px image to a 64 px encoder.
    const unwarmable = await reg.publishVariant(async (dir) => {
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, imageSize: 32 }));
    });

    for (const bad of [flipped, missing]) assert.equal(await engine.swap(bad), false, bad);
    assert.deepEqual(await refusals(), { verify: 2 });

    // CURRENT moved to a version that verifies (setCurrent checks hashes) but cannot warm up.
    await reg.registry.setCurrent(unwarmable, { reason: 'fault test', actor: 'test' });
    await until(async () => (await refusals()).load === 1, 'the engine to refuse the unwarmable version', {
      everyMs: 20,
    });
    assert.equal(await reg.registry.current(), unwarmable);

    assert.equal(engine.model?.version, BUNDLED_VERSION);
    assert.deepEqual(engine.status(), { ready: true, model: { name: MODEL_NAME, version: BUNDLED_VERSION } });
    const metricsText = (await app.inject({ url: '/metrics' })).body;
    assert.match(metricsText, /chexpo_engine_model_load_failures_total\{stage="verify"\} 2/);
    assert.match(metricsText, /chexpo_engine_model_load_failures_total\{stage="load"\} 1/);
    assert.match(
      metricsText,
      new RegExp(`chexpo_model_version_info\\{name="${MODEL_NAME}",version="${BUNDLED_VERSION}"\\} 1`),
    );
    for (const bad of [flipped, missing, unwarmable]) {
      assert.doesNotMatch(metricsText, new RegExp(`version="${bad}"`));
      const line = logs.find((l) => l.level === 'error' && l.details?.version === bad);
      assert.ok(line, `a log line for ${bad}`);
      assert.match(line.message, /refused/);
      assert.equal(line.details?.serving, BUNDLED_VERSION);
    }
    const causes = logs.filter((l) => l.level === 'error').map((l) => String(l.details?.error));
    assert.ok(
      causes.some((c) => /weights\.safetensors/.test(c)),
      'the sha256 mismatch names the file',
    );
    assert.ok(
      causes.some((c) => /tokenizer\.json/.test(c)),
      'the missing file is named',
    );
    assert.ok(
      causes.some((c) => /ORT_RUN_FAILED.*invalid dimensions/.test(c)),
      'the warm-up run failed',
    );
  } finally {
    stop = true;
    await client;
    await app.close();
    await engine.close();
  }
  assert.ok(served.length > 0);
  assert.deepEqual(new Set(served), new Set([BUNDLED_VERSION]));
});

// Regression: one graph failing to load while the others were still being created let the pool
// terminate the worker mid-create, and onnxruntime-node aborted the whole process ("terminate called
// after throwing an instance of 'Napi::Error'", about one swap in three). loadRuntime now settles
// every create before reporting the failure.
test('a truncated ONNX graph is refused without taking the process down; the release keeps serving', async () => {
  await reg.registry.setCurrent(BUNDLED_VERSION, { reason: 'fault test', actor: 'test' });
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = await Engine.start({
    registryRoot: reg.registryRoot,
    modelName: MODEL_NAME,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 16,
    watch: false,
    observer: engineObserver(metrics),
  });
  try {
    for (let i = 0; i < 4; i++) {
      const truncated = await reg.publishVariant(async (dir) => {
        const graph = await readFile(join(dir, 'encoder.onnx'));
        await writeFile(join(dir, 'encoder.onnx'), graph.subarray(0, graph.length >> 1));
      });
      assert.equal(await engine.swap(truncated), false);
    }
    assert.equal((await metrics.modelLoadFailures.get()).values[0]?.value, 4);
    const answer = await engine.answer({
      image: testPng(1),
      task: 'vqa',
      question: 'Is there a pneumothorax?',
      topLogprobs: 0,
    });
    assert.equal(answer.model.version, BUNDLED_VERSION);
  } finally {
    await engine.close();
  }
});
