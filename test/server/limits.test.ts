import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ApiError } from '../../src/server/errors.ts';
import { ANSWER_KEY, bearer, FAKE_PNG, multipartBody, testApp } from './helpers.ts';

const auth = bearer(ANSWER_KEY);

test('a body over CHEXPO_BODY_LIMIT_BYTES is BODY_TOO_LARGE', async () => {
  const { app } = await testApp({ env: { CHEXPO_BODY_LIMIT_BYTES: '2048' } });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: { image: Buffer.alloc(3000, 1).toString('base64'), question: 'q' },
  });
  assert.equal(res.statusCode, 413);
  assert.equal(res.json().error.code, 'BODY_TOO_LARGE');
  await app.close();
});

test('an image over CHEXPO_MAX_IMAGE_BYTES is IMAGE_TOO_LARGE, as base64 and as a file part', async () => {
  const { app, service } = await testApp({ env: { CHEXPO_MAX_IMAGE_BYTES: '100' } });
  const big = Buffer.alloc(200, 3);
  const json = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: { image: big.toString('base64'), question: 'q' },
  });
  assert.equal(json.statusCode, 413);
  assert.equal(json.json().error.code, 'IMAGE_TOO_LARGE');
  const { payload, headers } = multipartBody(
    { question: 'q' },
    { name: 'image', filename: 'big.png', type: 'image/png', data: big },
  );
  const part = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...headers, ...auth },
    payload,
  });
  assert.equal(part.statusCode, 413);
  assert.equal(part.json().error.code, 'IMAGE_TOO_LARGE');
  // Exactly at the limit is accepted.
  const fits = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: { image: big.subarray(0, 100).toString('base64'), question: 'q' },
  });
  assert.equal(fits.statusCode, 200);
  assert.equal(service.calls.length, 1);
  await app.close();
});

test('the deadline aborts the service signal and answers DEADLINE_EXCEEDED, even if the service ignores it', async () => {
  const { app, service } = await testApp({ env: { CHEXPO_REQUEST_TIMEOUT_MS: '150' } });
  for (const behaviour of ['hang-until-aborted', 'hang'] as const) {
    service.behaviour = behaviour;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: auth,
      payload: { image: FAKE_PNG.toString('base64'), question: 'q' },
    });
    assert.equal(res.statusCode, 504, behaviour);
    assert.equal(res.json().error.code, 'DEADLINE_EXCEEDED');
  }
  await app.close();
});

test('a client that hangs up aborts the service signal with REQUEST_CANCELLED', async () => {
  const { app, service } = await testApp();
  let seenSignal: AbortSignal | undefined;
  let called!: () => void;
  const wasCalled = new Promise<void>((resolve) => {
    called = resolve;
  });
  service.answer = (_request, signal) => {
    seenSignal = signal;
    called();
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  };
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/answer',
    headers: { ...auth, 'content-type': 'application/json' },
  });
  req.on('error', () => {});
  req.end(JSON.stringify({ image: FAKE_PNG.toString('base64'), question: 'q' }));
  await wasCalled;
  const aborted = new Promise<void>((resolve) => seenSignal!.addEventListener('abort', () => resolve()));
  req.destroy();
  await aborted;
  assert.equal((seenSignal!.reason as ApiError).code, 'REQUEST_CANCELLED');
  await app.close();
});

test('rate limit per key: RATE_LIMITED with Retry-After; other keys and health unaffected', async () => {
  const other = 'second-answer-key-000001';
  const { app } = await testApp({
    env: {
      CHEXPO_RATE_LIMIT_MAX: '2',
      CHEXPO_API_KEYS: `${ANSWER_KEY}:answer;${other}:answer`,
    },
  });
  const ask = (key: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: bearer(key),
      payload: { image: FAKE_PNG.toString('base64'), question: 'q' },
    });
  assert.equal((await ask(ANSWER_KEY)).statusCode, 200);
  assert.equal((await ask(ANSWER_KEY)).statusCode, 200);
  const limited = await ask(ANSWER_KEY);
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.json().error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) > 0);
  assert.equal((await ask(other)).statusCode, 200);
  for (let i = 0; i < 4; i++) assert.equal((await app.inject({ url: '/v2/health/live' })).statusCode, 200);
  await app.close();
});

test('event-loop lag sheds /v1 requests with OVERLOADED and Retry-After; health stays up', async () => {
  const { app } = await testApp({ env: { CHEXPO_MAX_EVENT_LOOP_DELAY_MS: '100' } });
  await app.ready();
  // Block the loop past under-pressure's 1 s sampling interval, then let its sampler run.
  const until = Date.now() + 1300;
  while (Date.now() < until) {
    /* busy: simulated lag */
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
  const shed = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: { image: FAKE_PNG.toString('base64'), question: 'q' },
  });
  assert.equal(shed.statusCode, 503);
  assert.equal(shed.json().error.code, 'OVERLOADED');
  assert.equal(shed.headers['retry-after'], '5');
  assert.equal((await app.inject({ url: '/v2/health/live' })).statusCode, 200);
  await app.close();
});
