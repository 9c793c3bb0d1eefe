import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/errors/public.ts';
import { buildApp } from '../../src/server/app.ts';
import { bearer, FEEDBACK_KEY, testApp, testConfig } from './helpers.ts';

test('GET /docs/openapi.json documents the API routes, both upload forms and the shared schemas', async () => {
  const { app } = await testApp();
  const res = await app.inject({ url: '/docs/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json();
  assert.equal(doc.openapi, '3.0.3');
  for (const path of [
    '/v1/answer',
    '/v1/feedback',
    '/v2/health/live',
    '/v2/health/ready',
    '/v2/models/{name}',
  ]) {
    assert.ok(doc.paths[path], path);
  }
  assert.equal(doc.paths['/metrics'], undefined);
  const answer = doc.paths['/v1/answer'].post;
  assert.deepEqual(Object.keys(answer.requestBody.content).sort(), [
    'application/json',
    'multipart/form-data',
  ]);
  assert.deepEqual(answer.security, [{ bearer: [] }]);
  assert.ok(answer.responses['200']);
  for (const name of [
    'AnswerRequest',
    'AnswerResponse',
    'FeedbackRequest',
    'FeedbackResponse',
    'ErrorResponse',
  ]) {
    assert.ok(doc.components.schemas[name], name);
  }
  await app.close();
});

test('feedback: recorded for a known request, NOT_FOUND for an unknown one, correction needs an answer', async () => {
  const { app, feedback } = await testApp();
  const send = (payload: object) =>
    app.inject({ method: 'POST', url: '/v1/feedback', headers: bearer(FEEDBACK_KEY), payload });
  const ok = await send({ request_id: 'req-1', verdict: 'incorrect', correct_answer: 'no' });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.deepEqual(ok.json(), { request_id: 'req-1', status: 'recorded' });
  assert.equal(feedback.recorded.length, 1);
  const unknown = await send({ request_id: 'req-2', verdict: 'correct' });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'NOT_FOUND');
  const noCorrection = await send({ request_id: 'req-1', verdict: 'incorrect' });
  assert.equal(noCorrection.json().error.code, 'INVALID_REQUEST');
  assert.equal(noCorrection.json().error.details[0].field, '/correct_answer');
  const extra = await send({ request_id: 'req-1', verdict: 'correct', patient_name: 'x' });
  assert.equal(extra.json().error.code, 'UNKNOWN_FIELD');
  await app.close();
});

test('feedback without a store is FEEDBACK_UNAVAILABLE', async () => {
  const app = await buildApp({ config: testConfig() });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/feedback',
    headers: bearer(FEEDBACK_KEY),
    payload: { request_id: 'r', verdict: 'correct' },
  });
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().error.code, 'FEEDBACK_UNAVAILABLE');
  await app.close();
});

test('the OpenAPI document lists every error code, and the input gate refusals under /v1/answer 422', async () => {
  const { app } = await testApp();
  const doc = (await app.inject({ url: '/docs/openapi.json' })).json();
  const text = JSON.stringify(doc);
  const refusal = JSON.stringify(doc.paths['/v1/answer'].post.responses['422']);
  for (const code of ['NOT_A_RADIOGRAPH', 'NOT_A_CHEST_IMAGE', 'IMAGE_TOO_SMALL']) {
    assert.ok(refusal.includes(code), code);
  }
  for (const code of Object.keys(ERROR_CATALOGUE)) assert.ok(text.includes(`"${code}"`), code);
  const answer = JSON.stringify(doc.components.schemas);
  for (const field of ['input_warnings', 'LATERAL_VIEW', 'INVERTED_LOOKING', 'transfer_syntax', 'frames']) {
    assert.ok(answer.includes(field), field);
  }
});
