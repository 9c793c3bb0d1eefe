/**
 * /v1/chat/completions request mapping and refusals, through inject() with a fake engine: what the
 * AnswerService is asked, and the coded 4xx (in OpenAI's error dialect) for what chexpo cannot do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANSWER_KEY, bearer, FEEDBACK_KEY, testApp } from './helpers.ts';

const IMAGE = Buffer.from('fake image bytes, decoded by the engine');
const imagePart = (mediaType = 'image/png') => ({
  type: 'image_url',
  image_url: { url: `data:${mediaType};base64,${IMAGE.toString('base64')}` },
});
const chat = (body: Record<string, unknown>) => ({
  method: 'POST' as const,
  url: '/v1/chat/completions',
  headers: bearer(ANSWER_KEY),
  payload: { model: 'chexpo-tiny', ...body },
});

test('a chat request becomes the AnswerRequest /v1/answer would build', async () => {
  const { app, service } = await testApp();
  const ok = await app.inject(
    chat({
      messages: [
        { role: 'developer', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: ' Which side is the effusion on? ' },
            imagePart('application/dicom'),
            { type: 'text', text: '' },
          ],
        },
      ],
      max_tokens: 9,
      max_completion_tokens: 7,
      logprobs: true,
      top_logprobs: 1,
      chexpo: { options: ['left', 'right'], request_id: 'ris-0042' },
    }),
  );
  assert.equal(ok.statusCode, 200, ok.body);
  const [asked] = service.calls;
  assert.deepEqual(Buffer.from(asked.image), IMAGE);
  assert.equal(asked.image_media_type, 'application/dicom');
  assert.equal(asked.task, 'vqa');
  assert.equal(asked.question, 'Which side is the effusion on?');
  assert.deepEqual(asked.options, ['left', 'right']);
  assert.equal(asked.max_tokens, 7, 'max_completion_tokens wins over the deprecated max_tokens');
  assert.equal(asked.top_logprobs, 1);
  assert.equal(asked.request_id, 'ris-0042');
  const body = ok.json();
  assert.equal(body.choices[0].message.content, 'yes');
  assert.deepEqual(body.choices[0].logprobs.content[0].top_logprobs, [
    { token: 'no', logprob: -2.5, bytes: [...Buffer.from('no')] },
  ]);
  assert.equal(body.chexpo.request_id, 'ris-0042');
  assert.match(body.chexpo.disclaimer, /research/i);

  // A plain string content has no image; an image alone asks for a report; no top_logprobs without logprobs.
  const report = await app.inject(chat({ messages: [{ role: 'user', content: [imagePart()] }] }));
  assert.equal(report.statusCode, 200, report.body);
  assert.equal(service.calls[1].task, 'report');
  assert.equal(service.calls[1].question, undefined);
  assert.equal(service.calls[1].top_logprobs, 0);
  assert.equal(report.json().choices[0].logprobs, null);
});

test('what chexpo cannot do is a coded 400 naming the field, in OpenAI error shape', async () => {
  const { app, service } = await testApp();
  const user = { role: 'user', content: [imagePart(), { type: 'text', text: 'Is there an effusion?' }] };
  const cases: [Record<string, unknown>, string, string | null][] = [
    [{ messages: [user], n: 2 }, 'UNSUPPORTED_PARAMETER', '/n'],
    [{ messages: [user], stop: ['.'] }, 'UNSUPPORTED_PARAMETER', '/stop'],
    [{ messages: [user], presence_penalty: 0.5 }, 'UNSUPPORTED_PARAMETER', '/presence_penalty'],
    [
      { messages: [user, { role: 'assistant', content: 'no' }, user] },
      'UNSUPPORTED_PARAMETER',
      '/messages/1',
    ],
    [{ messages: [user, user] }, 'INVALID_REQUEST', '/messages'],
    [{ messages: [user], top_logprobs: 3 }, 'INVALID_REQUEST', '/top_logprobs'],
    [{ messages: [user], top_logprobs: 21, logprobs: true }, 'INVALID_REQUEST', '/top_logprobs'],
    [{ messages: [user], tools: [] }, 'UNKNOWN_FIELD', '/tools'],
    [
      { messages: [{ role: 'user', content: [imagePart(), imagePart()] }] },
      'IMAGE_REQUIRED',
      '/messages/0/content',
    ],
    [
      { messages: [{ role: 'user', content: 'Is there an effusion?' }] },
      'IMAGE_REQUIRED',
      '/messages/0/content',
    ],
    [
      {
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] },
        ],
      },
      'IMAGE_URL_UNSUPPORTED',
      '/messages/0/content/0/image_url/url',
    ],
    [
      { messages: [{ role: 'user', content: [imagePart()] }], chexpo: { task: 'vqa' } },
      'QUESTION_REQUIRED',
      null,
    ],
  ];
  for (const [body, code, param] of cases) {
    const response = await app.inject(chat(body));
    assert.equal(response.statusCode, 400, JSON.stringify(body));
    const { error } = response.json();
    assert.equal(error.code, code, JSON.stringify(body));
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, param, JSON.stringify(body));
    assert.ok(error.message.length > 0);
  }
  const unknownModel = await app.inject(chat({ model: 'gpt-4o', messages: [user] }));
  assert.equal(unknownModel.statusCode, 404);
  assert.deepEqual(
    [unknownModel.json().error.code, unknownModel.json().error.type],
    ['NOT_FOUND', 'not_found_error'],
  );
  assert.equal(service.calls.length, 0, 'nothing reached the engine');
});

test('the routes need the answer scope, and admission refuses before reading the body', async () => {
  const { app, service } = await testApp();
  const payload = { model: 'chexpo-tiny', messages: [{ role: 'user', content: [imagePart()] }] };
  const noKey = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload });
  assert.equal(noKey.statusCode, 401);
  assert.equal(noKey.json().error.type, 'authentication_error');
  const wrongScope = await app.inject({ method: 'GET', url: '/v1/models', headers: bearer(FEEDBACK_KEY) });
  assert.equal(wrongScope.statusCode, 403);
  assert.equal(wrongScope.json().error.code, 'FORBIDDEN');
  service.admit = false;
  const full = await app.inject(chat(payload));
  assert.equal(full.statusCode, 503);
  assert.equal(full.json().error.code, 'QUEUE_FULL');
  assert.ok(full.headers['retry-after']);
  // The chexpo routes keep their own error body (no OpenAI fields).
  const answer = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: bearer(ANSWER_KEY),
    payload: {},
  });
  assert.equal(answer.json().error.type, undefined);
  assert.equal(service.calls.length, 0);
});
