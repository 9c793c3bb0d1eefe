import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { createMetrics, engineObserver } from '../../src/server/metrics.ts';
import { CR_FIXTURE, MODEL_NAME, type TempRegistry, tempRegistry, testPng } from './helpers.ts';

let reg: TempRegistry;
let version: string;
before(async () => {
  reg = await tempRegistry();
  version = await reg.publish(1);
});
after(() => reg.cleanup());

const engineOptions = (extra: Partial<Parameters<typeof Engine.create>[0]> = {}) => ({
  registryRoot: reg.registry.root,
  modelName: MODEL_NAME,
  workers: 2,
  executionProvider: 'cpu' as const,
  maxQueue: 64,
  watch: false,
  ...extra,
});

test('vqa and report answers carry tokens, spans, confidences, risk and timings; the CR DICOM decodes in the worker', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = Engine.create(engineOptions({ observer: engineObserver(metrics) }));
  assert.equal(engine.status().ready, false);
  const starting = engine.start();
  assert.equal(engine.status().ready, false, 'not ready while warming up');
  await starting;
  assert.deepEqual(engine.status(), { ready: true, model: { name: MODEL_NAME, version } });
  try {
    const vqa = await engine.answer({
      image: testPng(1),
      task: 'vqa',
      question: 'Is the effusion on the left?',
      options: ['left', 'right'],
      topLogprobs: 2,
    });
    assert.ok(vqa.tokens.length >= 1);
    for (const t of vqa.tokens) {
      assert.ok(t.prob > 0 && t.prob <= 1);
      assert.ok(Math.abs(Math.log(t.prob) - t.logprob) < 1e-4);
      assert.equal(t.top_logprobs?.length, 2);
    }
    assert.equal(vqa.prompt, 'Is the effusion on the left: left or right?');
    assert.equal(vqa.taskType, 'choice');
    assert.equal(vqa.answerSpan.length, 1);
    assert.ok(vqa.risk >= 0 && vqa.risk <= 1);
    assert.equal(vqa.embedding.length, 16);
    assert.equal(vqa.model.version, version);
    assert.match(vqa.imageSha256, /^[0-9a-f]{64}$/);

    const dicom = new Uint8Array(await readFile(CR_FIXTURE));
    const report = await engine.answer({ image: dicom, task: 'report', topLogprobs: 0 });
    assert.equal(report.taskType, 'report');
    assert.ok(report.tokens.every((t) => t.top_logprobs === undefined));
    assert.ok(report.timings_ms.total >= report.timings_ms.generate);
    assert.ok(report.confidence.min_prob <= Math.exp(report.confidence.mean_logprob) + 1e-9);
  } finally {
    await engine.close();
  }
});
