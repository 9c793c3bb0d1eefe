import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../src/server/app.ts';
import { findKey, parseApiKeys } from '../../src/server/auth.ts';
import { loadConfig } from '../../src/server/config.ts';
import {
  ADMIN_KEY,
  ANSWER_KEY,
  bearer,
  FAKE_PNG,
  FakeAnswerService,
  FEEDBACK_KEY,
  REVIEW_KEY,
  testApp,
} from './helpers.ts';

const answerBody = { image: FAKE_PNG.toString('base64'), question: 'q' };

test('parseApiKeys keeps digests and scopes, and reports every bad entry', () => {
  const { keys, problems } = parseApiKeys(
    ' alpha-key-0000000001 : answer, feedback ;beta-key-00000000002:admin;gamma-key-0000000003:review',
  );
  assert.deepEqual(problems, []);
  assert.equal(keys.length, 3);
  assert.deepEqual([...keys[0].scopes], ['answer', 'feedback']);
  assert.deepEqual([...keys[2].scopes], ['review']);
  assert.ok(!JSON.stringify(keys).includes('alpha-key'), 'the key text is not kept');
  const bad = parseApiKeys(
    'short:answer;no-scopes-given-000000;good-key-000000000001:answer,root;dup-key-0000000000001:answer;dup-key-0000000000001:admin',
  );
  assert.equal(bad.problems.length, 4);
  assert.match(bad.problems.join('\n'), /at least 16/);
  assert.match(bad.problems.join('\n'), /root/);
  assert.match(bad.problems.join('\n'), /repeats/);
});

test('findKey matches whole keys only', () => {
  const { keys } = parseApiKeys('alpha-key-0000000001:answer;beta-key-00000000002:admin');
  assert.equal(findKey(keys, 'beta-key-00000000002'), keys[1]);
  assert.equal(findKey(keys, 'beta-key-0000000000'), undefined);
  assert.equal(findKey(keys, 'beta-key-000000000022'), undefined);
  assert.equal(findKey(keys, ''), undefined);
});

test('401 without a valid bearer key, 403 with a key lacking the scope', async () => {
  const { app } = await testApp();
  const post = (url: string, headers: Record<string, string>, payload: object) =>
    app.inject({ method: 'POST', url, headers, payload });
  for (const headers of [
    {},
    bearer('not-a-configured-key-00'),
    { authorization: `Basic ${ANSWER_KEY}` },
    { authorization: 'Bearer' },
  ]) {
    const res = await post('/v1/answer', headers, answerBody);
    assert.equal(res.statusCode, 401, JSON.stringify(headers));
    assert.equal(res.json().error.code, 'UNAUTHORIZED');
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
  }
  for (const key of [FEEDBACK_KEY, ADMIN_KEY, REVIEW_KEY]) {
    const res = await post('/v1/answer', bearer(key), answerBody);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'FORBIDDEN');
  }
  // review (the console's reviewer standing) does not imply feedback (the own-answer /v1/feedback).
  for (const key of [ANSWER_KEY, REVIEW_KEY]) {
    const res = await post('/v1/feedback', bearer(key), { request_id: 'req-1', verdict: 'correct' });
    assert.equal(res.json().error.code, 'FORBIDDEN');
  }
  assert.equal((await post('/v1/answer', bearer(ANSWER_KEY), answerBody)).statusCode, 200);
  assert.equal(
    (await post('/v1/feedback', bearer(FEEDBACK_KEY), { request_id: 'req-1', verdict: 'correct' }))
      .statusCode,
    200,
  );
  await app.close();
});

test('auth is checked before the body: an unauthenticated request never reaches validation', async () => {
  const { app } = await testApp();
  const res = await app.inject({ method: 'POST', url: '/v1/answer', payload: { nonsense: true } });
  assert.equal(res.json().error.code, 'UNAUTHORIZED');
  await app.close();
});

test('no keys outside production: /v1 refuses with 401; CHEXPO_AUTH_DISABLED=1 opens it', async () => {
  const closed = loadConfig({});
  assert.match(closed.warnings.join('\n'), /refused with 401/);
  const app = await buildApp({ config: closed.config, answerService: new FakeAnswerService() });
  assert.equal(
    (await app.inject({ method: 'POST', url: '/v1/answer', payload: answerBody })).statusCode,
    401,
  );
  const open = loadConfig({ CHEXPO_AUTH_DISABLED: '1' });
  assert.match(open.warnings.join('\n'), /AUTH IS DISABLED/);
  const openApp = await buildApp({ config: open.config, answerService: new FakeAnswerService() });
  assert.equal(
    (await openApp.inject({ method: 'POST', url: '/v1/answer', payload: answerBody })).statusCode,
    200,
  );
  await Promise.all([app.close(), openApp.close()]);
});
