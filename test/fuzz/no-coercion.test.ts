/**
 * Attack (issue 13, defect 11): fastify's default `coerceTypes: 'array'` turned a JSON body that
 * fails its schema into one that passes: `{"to": ["v0001"]}` moved CURRENT, and feedback fields sent
 * as arrays or numbers were recorded. JSON bodies are now validated as sent; text-only parts
 * (multipart fields, query strings) still get their schema types.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Harness, makeHarness } from '../server/fixtures/trainer-harness.ts';
import {
  ADMIN_KEY,
  ANSWER_KEY,
  bearer,
  FAKE_PNG,
  FEEDBACK_KEY,
  multipartBody,
  testApp,
} from '../server/helpers.ts';

let h: Harness;
before(async () => {
  h = await makeHarness();
});
after(async () => h.close());

test('a rollback target given as an array is INVALID_REQUEST and CURRENT does not move', async () => {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/rollback',
    headers: bearer(ADMIN_KEY),
    payload: { to: ['v0001'], reason: 'coerced?' },
  });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(res.json().error.code, 'INVALID_REQUEST');
  assert.deepEqual(
    res.json().error.details.map((d: { field: string }) => d.field),
    ['/to'],
  );
  assert.equal(await h.registry.current(), 'v0002');
  for (const reason of [['x'], 42, true]) {
    const other = await h.app.inject({
      method: 'POST',
      url: '/v1/admin/rollback',
      headers: bearer(ADMIN_KEY),
      payload: { reason },
    });
    assert.equal(other.statusCode, 400, JSON.stringify(reason));
  }
  assert.equal(await h.registry.current(), 'v0002');
});

test('feedback and answer fields of the wrong JSON type are refused, never recorded or coerced', async () => {
  const { app, feedback, service } = await testApp();
  const bad = [
    { request_id: ['req-1'], verdict: 'correct' },
    { request_id: 'req-1', verdict: ['correct'] },
    { request_id: 'req-1', verdict: 'incorrect', correct_answer: ['no effusion'] },
    { request_id: 'req-1', verdict: 'correct', comment: 123 },
  ];
  for (const payload of bad) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/feedback',
      headers: bearer(FEEDBACK_KEY),
      payload,
    });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(res.json().error.code, 'INVALID_REQUEST');
  }
  assert.equal(feedback.recorded.length, 0);
  for (const extra of [
    { top_logprobs: '2' },
    { max_tokens: '5' },
    { return_tokens: 'false' },
    { options: 'left' },
  ]) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: bearer(ANSWER_KEY),
      payload: { image: FAKE_PNG.toString('base64'), question: 'q', ...extra },
    });
    assert.equal(res.statusCode, 400, JSON.stringify(extra));
  }
  assert.equal(service.calls.length, 0);
  await app.close();
});

test('multipart fields and query strings are text and still take their schema types', async () => {
  const { app, service } = await testApp();
  const { payload, headers } = multipartBody(
    { question: 'Which side?', options: ['left', 'right'], top_logprobs: '2', return_tokens: 'false' },
    { name: 'image', filename: 'x.png', type: 'image/png', data: FAKE_PNG },
  );
  const res = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...headers, ...bearer(ANSWER_KEY) },
    payload,
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(service.calls[0].top_logprobs, 2);
  assert.equal(service.calls[0].return_tokens, false);
  assert.deepEqual(service.calls[0].options, ['left', 'right']);
  await app.close();

  const runs = await h.app.inject({ url: '/v1/admin/runs?limit=5', headers: bearer(ADMIN_KEY) });
  assert.equal(runs.statusCode, 200, runs.body);
});
