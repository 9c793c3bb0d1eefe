/** The real engine and a real LanceDB store behind the HTTP app (random-init TEST_TINY version). */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { EngineAnswerService, StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { HardExampleLogger, hashRequestId } from '../../src/server/hard-example-logger.ts';
import { createMetrics, engineObserver } from '../../src/server/metrics.ts';
import { CR_FIXTURE, MODEL_NAME, type TempRegistry, tempRegistry, testPng } from '../engine/helpers.ts';
import { bearer, CLINIC_KEY, keyIdOf, multipartBody, testConfig } from './helpers.ts';

let reg: TempRegistry;
let storeDir: string;
before(async () => {
  reg = await tempRegistry();
  await reg.publish(11);
  storeDir = await mkdtemp(join(tmpdir(), 'chexpo-store-'));
});
after(async () => {
  await reg.cleanup();
  await rm(storeDir, { recursive: true, force: true });
});

/** Every readable file under a directory, concatenated as latin1 (to grep stored bytes for PHI). */
async function allBytes(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push((await readFile(join(entry.parentPath, entry.name))).toString('latin1'));
  }
  return parts.join('\n');
}

test('answers through inject(): readiness after warm-up, both tasks, flagged rows in LanceDB without PHI, feedback', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const config = testConfig({ CHEXPO_RISK_THRESHOLD: '0' });
  const engine = Engine.create({
    registryRoot: reg.registry.root,
    modelName: MODEL_NAME,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 8,
    watch: false,
    keepImagePng: true,
    observer: engineObserver(metrics),
  });
  const logger = new HardExampleLogger({ uri: storeDir, metrics, queue: { flushIntervalMs: 20 } });
  const app = await buildApp({
    config,
    metrics,
    answerService: new EngineAnswerService({ engine, logger, riskThreshold: 0, storeImages: true }),
    feedbackService: new StoreFeedbackService(logger),
    modelStatus: () => engine.status(),
  });
  try {
    assert.equal((await app.inject({ url: '/v2/health/ready' })).statusCode, 503);
    const early = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: bearer(CLINIC_KEY),
      payload: { image: Buffer.from(testPng(1)).toString('base64'), task: 'report' },
    });
    assert.equal(early.json().error.code, 'MODEL_NOT_READY');
    await engine.start();
    assert.equal((await app.inject({ url: '/v2/health/ready' })).statusCode, 200);

    const vqa = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: bearer(CLINIC_KEY),
      payload: {
        image: Buffer.from(testPng(2)).toString('base64'),
        task: 'vqa',
        question: 'Which side is the effusion on?',
        options: ['left', 'right'],
        top_logprobs: 3,
        request_id: 'client-req-vqa',
      },
    });
    assert.equal(vqa.statusCode, 200, vqa.body);
    const body = vqa.json();
    for (const field of [
      'answer',
      'answer_span',
      'tokens',
      'confidence',
      'risk',
      'flagged',
      'model',
      'timings_ms',
    ]) {
      assert.ok(field in body, field);
    }
    assert.equal(body.request_id, 'client-req-vqa');
    assert.equal(body.flagged, true);
    assert.equal(body.tokens[0].top_logprobs.length, 3);
    assert.equal(body.model.name, MODEL_NAME);

    const dicom = await readFile(CR_FIXTURE);
    const { payload, headers } = multipartBody(
      { task: 'report', request_id: 'client-req-report', return_tokens: 'false' },
      { name: 'image', filename: 'chest.dcm', type: 'application/dicom', data: dicom },
    );
    const rep = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: { ...headers, ...bearer(CLINIC_KEY) },
      payload,
    });
    assert.equal(rep.statusCode, 200, rep.body);
    assert.equal(rep.json().tokens, undefined);
    assert.ok(rep.json().answer_span.every((s: { kind: string }) => s.kind === 'finding'));

    assert.deepEqual(await logger.flush(), { pending: 0 });
    const store = await logger.openStore();
    const rows = await store.listHardExamples();
    assert.equal(rows.length, 2);
    const reportRow = rows.find((r) => r.task === 'report')!;
    assert.equal(reportRow.request_id_hash, hashRequestId(keyIdOf(CLINIC_KEY), 'client-req-report'));
    assert.equal(reportRow.model_version, rep.json().model.version);
    assert.equal(reportRow.source, 'live');
    assert.equal(reportRow.embedding.length, 16);
    assert.equal(reportRow.image_sha256.length, 64);
    assert.ok(reportRow.token_probs.length > 0);
    const vqaRow = rows.find((r) => r.task === 'choice')!;
    assert.equal(vqaRow.question, 'Which side is the effusion on: left or right?');
    const image = (await store.getImages([reportRow.id])).get(reportRow.id)!;
    assert.deepEqual([...image.subarray(1, 4)], [...Buffer.from('PNG')]);
    // No PHI: neither the row, nor its image, nor any byte LanceDB wrote carries DICOM tags.
    const stored = `${JSON.stringify(rows)}\n${Buffer.from(image).toString('latin1')}\n${await allBytes(storeDir)}`;
    for (const phi of ['Anonymized', '1995.07.20', '1993.02.24', 'FUJI', 'client-req-report']) {
      assert.equal(stored.includes(phi), false, phi);
    }

    const feedback = await app.inject({
      method: 'POST',
      url: '/v1/feedback',
      headers: bearer(CLINIC_KEY),
      payload: { request_id: 'client-req-vqa', verdict: 'incorrect', correct_answer: 'right' },
    });
    assert.equal(feedback.statusCode, 200, feedback.body);
    const labelled = (await store.listHardExamples({ status: 'labelled' }))[0];
    assert.deepEqual(
      JSON.parse(labelled.label!).labels.map((l: { correct_answer: string; by: string; as: string }) => [
        l.correct_answer,
        l.by,
        l.as,
      ]),
      [['right', keyIdOf(CLINIC_KEY), 'owner']],
    );
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/feedback',
      headers: bearer(CLINIC_KEY),
      payload: { request_id: 'never-seen', verdict: 'correct' },
    });
    assert.equal(unknown.statusCode, 404);
  } finally {
    await app.close();
    await engine.close();
    await logger.close();
  }
});
