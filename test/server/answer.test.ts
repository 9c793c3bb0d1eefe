import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { API_SCHEMA_FILES, loadSchema } from '../../src/server/schemas.ts';
import { ANSWER_KEY, bearer, FAKE_PNG, multipartBody, type TestApp, testApp } from './helpers.ts';

const auth = bearer(ANSWER_KEY);
const ajv = new Ajv({ strict: false });
for (const file of API_SCHEMA_FILES) ajv.addSchema(loadSchema(file));
const validResponse = ajv.getSchema('AnswerResponse')!;
const validError = ajv.getSchema('ErrorResponse')!;

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.app.close());

function postJson(body: unknown, headers: Record<string, string> = auth) {
  return t.app.inject({ method: 'POST', url: '/v1/answer', headers, payload: body as object });
}

function assertError(
  res: { statusCode: number; json(): unknown },
  status: number,
  code: string,
): { error: { message: string; details?: { field: string }[] } } {
  const body = res.json() as { error: { code: string; message: string; details?: { field: string }[] } };
  assert.equal(res.statusCode, status, JSON.stringify(body));
  assert.equal(body.error.code, code);
  assert.ok(validError(body), 'error body matches schemas/error.json');
  return body;
}

test('JSON happy path: base64 image in, schema-valid answer out, defaults applied, request id echoed', async () => {
  const res = await postJson({
    image: FAKE_PNG.toString('base64'),
    question: 'Is there a pleural effusion?',
    request_id: 'abc-123',
  });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.ok(validResponse(body), JSON.stringify(validResponse.errors));
  assert.equal(body.request_id, 'abc-123');
  assert.match(body.disclaimer, /not a diagnosis/);
  assert.equal(body.tokens.length, 1);
  const call = t.service.calls.at(-1)!;
  assert.deepEqual(Buffer.from(call.image), FAKE_PNG);
  assert.equal(call.task, 'vqa');
  assert.equal(call.top_logprobs, 0);
  assert.equal(call.return_tokens, true);
});

test('return_tokens=false drops the token list; a missing request_id is generated', async () => {
  const res = await postJson({ image: FAKE_PNG.toString('base64'), task: 'report', return_tokens: false });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().tokens, undefined);
  assert.match(res.json().request_id, /^[0-9a-f-]{36}$/);
});

test('multipart happy path: image file part plus fields, coerced like JSON', async () => {
  const { payload, headers } = multipartBody(
    {
      question: 'Which side?',
      options: ['left', 'right'],
      max_tokens: '12',
      top_logprobs: '3',
      request_id: 'mp-1',
    },
    { name: 'image', filename: 'cxr.png', type: 'image/png', data: FAKE_PNG },
  );
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...headers, ...auth },
    payload,
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.ok(validResponse(res.json()));
  const call = t.service.calls.at(-1)!;
  assert.deepEqual(Buffer.from(call.image), FAKE_PNG);
  assert.equal(call.image_media_type, 'image/png');
  assert.deepEqual(call.options, ['left', 'right']);
  assert.equal(call.max_tokens, 12);
  assert.equal(call.top_logprobs, 3);
  assert.equal(call.request_id, 'mp-1');
});

test('wrong or missing content type is UNSUPPORTED_MEDIA_TYPE', async () => {
  for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: { ...auth, 'content-type': type },
      payload: 'x=1',
    });
    assertError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  }
  const none = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: Buffer.from('{}'),
  });
  assertError(none, 415, 'UNSUPPORTED_MEDIA_TYPE');
});

test('malformed or empty JSON is INVALID_REQUEST', async () => {
  const headers = { ...auth, 'content-type': 'application/json' };
  const broken = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers,
    payload: '{"image": "AAAA",',
  });
  assertError(broken, 400, 'INVALID_REQUEST');
  const empty = await t.app.inject({ method: 'POST', url: '/v1/answer', headers, payload: '' });
  assertError(empty, 400, 'INVALID_REQUEST');
});

test('unknown fields are UNKNOWN_FIELD, naming each (JSON, multipart field, multipart file part)', async () => {
  const json = assertError(
    await postJson({ image: 'AAAA', question: 'q', foo: 1, bar: 2 }),
    400,
    'UNKNOWN_FIELD',
  );
  assert.deepEqual(json.error.details?.map((d) => d.field).sort(), ['/bar', '/foo']);
  const field = multipartBody(
    { question: 'q', temperature: '0.7' },
    { name: 'image', filename: 'a.png', type: 'image/png', data: FAKE_PNG },
  );
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...field.headers, ...auth },
    payload: field.payload,
  });
  assert.deepEqual(
    assertError(res, 400, 'UNKNOWN_FIELD').error.details?.map((d) => d.field),
    ['/temperature'],
  );
  const file = multipartBody(
    { question: 'q' },
    { name: 'mask', filename: 'm.png', type: 'image/png', data: FAKE_PNG },
  );
  const res2 = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...file.headers, ...auth },
    payload: file.payload,
  });
  assertError(res2, 400, 'UNKNOWN_FIELD');
});

test('schema violations are INVALID_REQUEST listing every offending field', async () => {
  const res = await postJson({
    image: 'AAAA',
    question: 'q',
    task: 'segment',
    top_logprobs: 21,
    options: ['only one'],
  });
  const body = assertError(res, 400, 'INVALID_REQUEST');
  assert.deepEqual(body.error.details?.map((d) => d.field).sort(), ['/options', '/task', '/top_logprobs']);
  const missing = assertError(await postJson({ question: 'q' }), 400, 'INVALID_REQUEST');
  assert.deepEqual(missing.error.details, [{ field: '/image', message: 'is required' }]);
});

test('task vqa without a (non-blank) question is QUESTION_REQUIRED; a report needs none', async () => {
  const image = FAKE_PNG.toString('base64');
  assertError(await postJson({ image }), 400, 'QUESTION_REQUIRED');
  assertError(await postJson({ image, task: 'vqa', question: '   ' }), 400, 'QUESTION_REQUIRED');
  assert.equal((await postJson({ image, task: 'report' })).statusCode, 200);
});

test('an empty image is IMAGE_EMPTY (JSON and zero-byte multipart part); bad base64 is IMAGE_UNDECODABLE', async () => {
  assertError(await postJson({ image: '', question: 'q' }), 400, 'IMAGE_EMPTY');
  const { payload, headers } = multipartBody(
    { question: 'q' },
    { name: 'image', filename: 'empty.png', type: 'image/png', data: Buffer.alloc(0) },
  );
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...headers, ...auth },
    payload,
  });
  assertError(res, 400, 'IMAGE_EMPTY');
  assertError(await postJson({ image: 'not base64 at all!', question: 'q' }), 400, 'IMAGE_UNDECODABLE');
});

test('two file parts are refused; a malformed multipart body is INVALID_REQUEST, not a 500', async () => {
  const one = multipartBody(
    { question: 'q' },
    { name: 'image', filename: 'a.png', type: 'image/png', data: FAKE_PNG },
  );
  const second = multipartBody({}, { name: 'image', filename: 'b.png', type: 'image/png', data: FAKE_PNG });
  const twoFiles = Buffer.concat([
    one.payload.subarray(0, one.payload.length - '------chexpo-test-boundary--\r\n'.length),
    second.payload,
  ]);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...one.headers, ...auth },
    payload: twoFiles,
  });
  assert.match(assertError(res, 400, 'INVALID_REQUEST').error.message, /only one file part/);
  const truncated = one.payload.subarray(0, one.payload.length - 40);
  const res2 = await t.app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: { ...one.headers, ...auth },
    payload: truncated,
  });
  assert.match(assertError(res2, 400, 'INVALID_REQUEST').error.message, /malformed multipart/);
});

test('coded errors thrown by the service keep their code; 5xx hide their internals', async () => {
  const cases: [string, number][] = [
    ['IMAGE_UNDECODABLE', 400],
    ['IMAGE_TOO_LARGE', 413],
    ['UNSUPPORTED_TRANSFER_SYNTAX', 415],
    ['DICOM_NOT_IMAGE', 422],
    ['UNSUPPORTED_IMAGE_FORMAT', 415],
    ['IMAGE_EMPTY', 400],
  ];
  const image = FAKE_PNG.toString('base64');
  for (const [code, status] of cases) {
    // Shaped like src/data/image's ImageError: a plain Error with a `code`.
    t.service.behaviour = Object.assign(new Error(`decoder says ${code}`), { name: 'ImageError', code });
    const body = assertError(await postJson({ image, question: 'q' }), status, code);
    assert.equal(body.error.message, `decoder says ${code}`);
  }
  t.service.behaviour = Object.assign(new Error('worker 3 segfaulted at /secret/path'), {
    code: 'WORKER_FAILED',
  });
  const worker = assertError(await postJson({ image, question: 'q' }), 500, 'WORKER_FAILED');
  assert.doesNotMatch(worker.error.message, /secret/);
  t.service.behaviour = new TypeError("Cannot read properties of undefined (reading 'x')");
  const internal = await postJson({ image, question: 'q' });
  assert.equal(assertError(internal, 500, 'INTERNAL').error.message, 'internal error');
  assert.doesNotMatch(internal.body, /TypeError|at /);
  t.service.behaviour = 'answer';
});

test('unknown routes are NOT_FOUND in the catalogue shape', async () => {
  assertError(await t.app.inject({ url: '/v1/nothing-here' }), 404, 'NOT_FOUND');
  assertError(await t.app.inject({ method: 'DELETE', url: '/v1/answer', headers: auth }), 404, 'NOT_FOUND');
});

test('without an engine /v1/answer is MODEL_NOT_READY with Retry-After', async () => {
  const { app } = await testApp({ withService: false });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: { image: 'AAAA', question: 'q' },
  });
  assertError(res, 503, 'MODEL_NOT_READY');
  assert.equal(res.headers['retry-after'], '5');
  await app.close();
});

test('a full queue is QUEUE_FULL with Retry-After, before the service is called', async () => {
  t.service.admit = false;
  const before = t.service.calls.length;
  const res = await postJson({ image: FAKE_PNG.toString('base64'), question: 'q' });
  t.service.admit = true;
  assertError(res, 503, 'QUEUE_FULL');
  assert.ok(Number(res.headers['retry-after']) >= 1);
  assert.equal(t.service.calls.length, before);
});
