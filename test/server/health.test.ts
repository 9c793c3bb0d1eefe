import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION, buildApp } from '../../src/server/app.ts';
import { MODEL_INPUTS, MODEL_OUTPUTS } from '../../src/server/routes/health.ts';
import { testApp, testConfig } from './helpers.ts';

/** The tensor data types of the Open Inference Protocol. */
const OIP_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
];

test('live is always 200; ready is 503 MODEL_NOT_READY until a model is attached', async () => {
  const { app } = await testApp({ withService: false });
  assert.equal((await app.inject({ url: '/v2/health/live' })).statusCode, 200);
  const notReady = await app.inject({ url: '/v2/health/ready' });
  assert.equal(notReady.statusCode, 503);
  // The Open Inference Protocol's error body: one string, led by chexpo's stable code.
  assert.deepEqual(Object.keys(notReady.json()), ['error']);
  assert.match(notReady.json().error, /^MODEL_NOT_READY: /);
  assert.ok(Number(notReady.headers['retry-after']) > 0);
  const { app: ready } = await testApp();
  assert.equal((await ready.inject({ url: '/v2/health/ready' })).statusCode, 200);
});

test('readiness follows the modelStatus callback, and model metadata reports the loaded version', async () => {
  let status: { ready: boolean; model?: { name: string; version: string }; reason?: string } = {
    ready: false,
    reason: 'warming up',
  };
  const app = await buildApp({ config: testConfig(), modelStatus: () => status });
  const warming = await app.inject({ url: '/v2/health/ready' });
  assert.equal(warming.statusCode, 503);
  assert.match(warming.json().error, /warming up/);
  assert.deepEqual((await app.inject({ url: '/v2/models/chexpo-tiny' })).json().versions, []);

  status = { ready: true, model: { name: 'chexpo-tiny', version: 'v7' } };
  assert.equal((await app.inject({ url: '/v2/health/ready' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/v2/models/chexpo-tiny/ready' })).statusCode, 200);
  const meta = (await app.inject({ url: '/v2/models/chexpo-tiny' })).json();
  assert.deepEqual(meta, {
    name: 'chexpo-tiny',
    versions: ['v7'],
    platform: 'onnxruntime',
    inputs: MODEL_INPUTS,
    outputs: MODEL_OUTPUTS,
    ready: true,
  });
  for (const t of [...meta.inputs, ...meta.outputs]) {
    assert.ok(OIP_DATATYPES.includes(t.datatype), t.datatype);
    assert.ok(t.shape.every((d: number) => Number.isInteger(d) && d >= -1));
  }
  const other = await app.inject({ url: '/v2/models/other-model' });
  assert.equal(other.statusCode, 404);
  assert.deepEqual(other.json(), { error: "NOT_FOUND: not found: no model named 'other-model'" });
  // Unknown paths under /v2 too; elsewhere chexpo's own body.
  assert.match((await app.inject({ url: '/v2/repository/index' })).json().error, /^NOT_FOUND: /);
  assert.equal((await app.inject({ url: '/v1/nothing' })).json().error.code, 'NOT_FOUND');
});

test('GET /v2 is the server metadata of the Open Inference Protocol', async () => {
  const { app } = await testApp();
  const res = await app.inject({ url: '/v2' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { name: 'chexpo', version: API_VERSION, extensions: [] });
});

test('health, metrics and docs need no API key', async () => {
  const { app } = await testApp();
  for (const url of [
    '/v2',
    '/docs/',
    '/v2/health/live',
    '/v2/health/ready',
    '/v2/models/chexpo-tiny',
    '/metrics',
    '/docs/openapi.json',
  ]) {
    assert.equal((await app.inject({ url })).statusCode, 200, url);
  }
});
