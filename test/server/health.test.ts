import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../src/server/app.ts';
import { testApp, testConfig } from './helpers.ts';

test('live is always 200; ready is 503 MODEL_NOT_READY until a model is attached', async () => {
  const { app } = await testApp({ withService: false });
  assert.equal((await app.inject({ url: '/v2/health/live' })).statusCode, 200);
  const notReady = await app.inject({ url: '/v2/health/ready' });
  assert.equal(notReady.statusCode, 503);
  assert.equal(notReady.json().error.code, 'MODEL_NOT_READY');
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
  assert.match(warming.json().error.message, /warming up/);
  assert.deepEqual((await app.inject({ url: '/v2/models/chexpo-tiny' })).json().versions, []);

  status = { ready: true, model: { name: 'chexpo-tiny', version: 'v7' } };
  assert.equal((await app.inject({ url: '/v2/health/ready' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/v2/models/chexpo-tiny/ready' })).statusCode, 200);
  const meta = (await app.inject({ url: '/v2/models/chexpo-tiny' })).json();
  assert.deepEqual(meta, { name: 'chexpo-tiny', versions: ['v7'], platform: 'onnxruntime', ready: true });
  const other = await app.inject({ url: '/v2/models/other-model' });
  assert.equal(other.statusCode, 404);
  assert.equal(other.json().error.code, 'NOT_FOUND');
});

test('health, metrics and docs need no API key', async () => {
  const { app } = await testApp();
  for (const url of [
    '/v2/health/live',
    '/v2/health/ready',
    '/v2/models/chexpo-tiny',
    '/metrics',
    '/docs/openapi.json',
  ]) {
    assert.equal((await app.inject({ url })).statusCode, 200, url);
  }
});
