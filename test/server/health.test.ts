import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../src/server/app.ts';

test('live is always true; ready is 503 until a model is loaded', async () => {
  const noModel = buildApp();
  assert.equal((await noModel.inject({ url: '/v2/health/live' })).statusCode, 200);
  const notReady = await noModel.inject({ url: '/v2/health/ready' });
  assert.equal(notReady.statusCode, 503);
  assert.equal(notReady.json().ready, false);
  const withModel = buildApp({ model: { name: 'chexpo-tiny', version: 'v1' } });
  assert.equal((await withModel.inject({ url: '/v2/health/ready' })).statusCode, 200);
});
