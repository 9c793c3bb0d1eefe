/**
 * The input gate through the real engine and the HTTP app (random-init TEST_TINY version, the gate
 * as `chexpo serve` configures it from the environment): refusals are 422 with their codes and
 * actionable messages, every answer carries the `image` block and `input_warnings`, and a warning
 * raises the risk of the very same pixels by the documented factor.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { EngineAnswerService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { MODEL_NAME, startTestEngine, type TempRegistry, tempRegistry } from '../engine/helpers.ts';
import {
  CR_IMAGE_INFO,
  corpusFile,
  flatPng,
  lateralCr,
  negativeCr,
  noisePng,
} from '../fixtures/gate-images.ts';
import { REAL_CR_DICOM } from '../fixtures/paths.ts';
import { ANSWER_KEY, bearer, testConfig } from './helpers.ts';

let reg: TempRegistry;
let engine: Engine;
let app: Awaited<ReturnType<typeof buildApp>>;

before(async () => {
  reg = await tempRegistry();
  await reg.publish(23);
  const config = testConfig({ CHEXPO_GATE_MODALITIES: 'CR, dx' });
  const metrics = createMetrics({ defaultMetrics: false });
  engine = await startTestEngine(reg, {
    inputGate: config.gate,
    metrics,
  });
  app = await buildApp({
    config,
    metrics,
    answerService: new EngineAnswerService({ engine, riskThreshold: 0.5 }),
    modelStatus: () => engine.status(),
  });
});
after(async () => {
  await app?.close();
  await engine?.close();
  await reg?.cleanup();
});

const ask = (image: Buffer, extra: Record<string, unknown> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: bearer(ANSWER_KEY),
    payload: {
      image: image.toString('base64'),
      task: 'vqa',
      question: 'Is there a pleural effusion?',
      ...extra,
    },
  });

test('CHEXPO_GATE_MODALITIES is parsed into the gate (trimmed, upper case)', () => {
  assert.deepEqual(testConfig({ CHEXPO_GATE_MODALITIES: 'CR, dx' }).gate.modalities, ['CR', 'DX']);
  assert.equal(testConfig({}).gate.minSide, 256);
  assert.equal(testConfig({ CHEXPO_GATE_MIN_SIDE_PX: '512' }).gate.minSide, 512);
});

test('CT, MR, US, an extremity and a thumbnail are refused with 422 and their codes', async () => {
  const refusals: [Buffer, string, RegExp][] = [
    [corpusFile('CT_small.dcm'), 'NOT_A_RADIOGRAPH', /Modality is CT/],
    [corpusFile('MR_small_RLE.dcm'), 'NOT_A_RADIOGRAPH', /Modality is MR/],
    [corpusFile('US1_J2KR.dcm'), 'NOT_A_RADIOGRAPH', /Modality is US/],
    [corpusFile('RG3_J2KR.dcm'), 'NOT_A_CHEST_IMAGE', /BodyPartExamined is EXTREMITY/],
    [noisePng(4, 64), 'IMAGE_TOO_SMALL', /64×64 px.*at least 256 px/],
  ];
  for (const [image, code, message] of refusals) {
    const rep = await ask(image);
    assert.equal(rep.statusCode, 422, rep.body);
    assert.equal(rep.json().error.code, code);
    assert.match(rep.json().error.message, message);
  }
});

test('the real CR film is answered with its image block and no warning', async () => {
  const rep = await ask(readFileSync(REAL_CR_DICOM));
  assert.equal(rep.statusCode, 200, rep.body);
  const body = rep.json();
  assert.deepEqual(body.image, CR_IMAGE_INFO);
  assert.deepEqual(body.input_warnings, []);
});

test('a lateral view of the same pixels is answered with LATERAL_VIEW and risk 1 − (1 − r)·0.4', async () => {
  const plain = (await ask(readFileSync(REAL_CR_DICOM))).json();
  const lateral = (await ask(lateralCr())).json();
  assert.deepEqual(lateral.input_warnings, ['LATERAL_VIEW']);
  assert.equal(lateral.image.view, 'LL');
  assert.equal(lateral.answer, plain.answer, 'same pixels, same answer');
  assert.ok(Math.abs(lateral.risk - (1 - (1 - plain.risk) * 0.4)) < 1e-9, `${lateral.risk} vs ${plain.risk}`);
  assert.ok(lateral.risk > 0.5, 'one warning lifts the risk over the default threshold');
});

test('an inverted-looking film and a flat image are answered with their warnings', async () => {
  const negative = (await ask(negativeCr())).json();
  assert.deepEqual(negative.input_warnings, ['INVERTED_LOOKING']);
  assert.equal(negative.image.photometric, 'MONOCHROME2');
  const flat = (await ask(flatPng(300), { task: 'report', question: undefined })).json();
  assert.deepEqual(flat.input_warnings, ['NEARLY_UNIFORM']);
  assert.equal(flat.image.format, 'png');
  assert.equal(flat.image.modality, null);
});

test('multi-frame input says which frame was read (an engine without a gate answers an MR head series)', async () => {
  const local = await Engine.start({
    registryRoot: reg.registry.root,
    modelName: MODEL_NAME,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 4,
    watch: false,
  });
  try {
    const answer = await local.answer({
      image: corpusFile('emri_small_jpeg_2k_lossless.dcm'),
      task: 'report',
      topLogprobs: 0,
    });
    assert.equal(answer.image.frame, 1);
    assert.equal(answer.image.frames, 10);
    assert.equal(answer.image.transfer_syntax, '1.2.840.10008.1.2.4.90');
  } finally {
    await local.close();
  }
});
