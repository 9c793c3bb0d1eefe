import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { type Harness, makeHarness, metricValue } from './fixtures/trainer-harness.ts';
import { ADMIN_KEY, ANSWER_KEY, bearer, FEEDBACK_KEY } from './helpers.ts';

let h: Harness;
before(async () => {
  h = await makeHarness();
});
after(async () => h.close());

const admin = bearer(ADMIN_KEY);

test('admin routes refuse a missing key (401) and a key without the admin scope (403)', async () => {
  const routes = [
    { method: 'GET' as const, url: '/v1/admin/versions' },
    { method: 'POST' as const, url: '/v1/admin/rollback', payload: { reason: 'x' } },
    { method: 'POST' as const, url: '/v1/admin/train', payload: {} },
    { method: 'GET' as const, url: '/v1/admin/runs' },
    { method: 'GET' as const, url: '/v1/admin/runs/run-1' },
  ];
  for (const route of routes) {
    const anonymous = await h.app.inject(route);
    assert.equal(anonymous.statusCode, 401, route.url);
    assert.equal(anonymous.json().error.code, 'UNAUTHORIZED');
    const answerOnly = await h.app.inject({ ...route, headers: bearer(ANSWER_KEY) });
    assert.equal(answerOnly.statusCode, 403, route.url);
    assert.equal(answerOnly.json().error.code, 'FORBIDDEN');
  }
  assert.equal(h.trainer.active, null, 'a refused train request starts nothing');
});

test('GET /v1/admin/versions lists manifests, CURRENT and the served version, and sets the score gauge', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/v1/admin/versions', headers: admin });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.current, 'v0002');
  assert.equal(body.serving, 'v0002');
  assert.deepEqual(
    body.versions.map(
      (v: { version: string; parent: string | null; eval_primary: number; run_id: string | null }) => [
        v.version,
        v.parent,
        v.eval_primary,
        v.run_id,
      ],
    ),
    [
      ['v0001', null, 0.48, null],
      ['v0002', 'v0001', 0.51, 'run-for-v0002'],
    ],
  );
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_eval_score', { version: 'v0002' }), 0.51);
  // Only served versions (CURRENT, the one this replica serves) have a score series.
  const versions = (await h.metrics.loopEvalScore.get()).values.map((v) => v.labels.version);
  assert.deepEqual(versions, ['v0002']);
});

test('POST /v1/admin/rollback moves CURRENT back, then to a named version; refusals are coded', async () => {
  const back = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/rollback',
    headers: admin,
    payload: { reason: 'candidate hallucinates effusions' },
  });
  assert.equal(back.statusCode, 200, back.body);
  assert.deepEqual(
    { ...(back.json() as Record<string, unknown>), at: undefined },
    { from: 'v0002', to: 'v0001', action: 'rollback', at: undefined },
  );
  assert.equal(await h.registry.current(), 'v0001');
  const history = await h.registry.history();
  assert.match(history.at(-1)?.actor ?? '', /^admin:[0-9a-f]{12}$/);

  const again = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/rollback',
    headers: admin,
    payload: { reason: 'x' },
  });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().error.code, 'ROLLBACK_REFUSED');

  const missing = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/rollback',
    headers: admin,
    payload: { to: 'v9999', reason: 'x' },
  });
  assert.equal(missing.json().error.code, 'NOT_FOUND');
  const noReason = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/rollback',
    headers: admin,
    payload: {},
  });
  assert.equal(noReason.json().error.code, 'INVALID_REQUEST');

  const forward = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/rollback',
    headers: admin,
    payload: { to: 'v0002', reason: 'fixed' },
  });
  assert.equal(forward.statusCode, 200);
  assert.equal(forward.json().action, 'set');
  assert.equal(await h.registry.current(), 'v0002');
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_rollbacks_total'), 2);
});

test('GET /v1/admin/runs lists stored runs; /runs/{id} returns the record or NOT_FOUND', async () => {
  const doc = {
    schema: 'chexpo.run/1',
    id: 'run-a',
    trigger: 'schedule',
    base_version: 'v0001',
    eval: { current: 0.4, candidate: 0.45 },
    error: null,
  };
  await h.store.putRun({
    id: 'run-a',
    started_at: 1000,
    finished_at: 5000,
    status: 'rejected',
    record: JSON.stringify(doc),
  });
  await h.store.putRun({
    id: 'run-b',
    started_at: 2000,
    finished_at: null,
    status: 'running',
    record: 'not json',
  });
  const list = await h.app.inject({ method: 'GET', url: '/v1/admin/runs?limit=5', headers: admin });
  assert.equal(list.statusCode, 200, list.body);
  const runs = list.json().runs;
  assert.deepEqual(
    runs.map((r: { id: string }) => r.id),
    ['run-b', 'run-a'],
  );
  assert.deepEqual(runs[1].eval, { current: 0.4, candidate: 0.45 });
  assert.equal(runs[1].started_at, new Date(1000).toISOString());
  assert.equal(runs[0].trigger, null, 'an unreadable record still lists');

  const one = await h.app.inject({ method: 'GET', url: '/v1/admin/runs/run-a', headers: admin });
  assert.equal(one.statusCode, 200);
  assert.equal(one.json().record.trigger, 'schedule');
  assert.equal(one.json().run.status, 'rejected');
  const none = await h.app.inject({ method: 'GET', url: '/v1/admin/runs/run-zzz', headers: admin });
  assert.equal(none.statusCode, 404);
  assert.equal(none.json().error.code, 'NOT_FOUND');
});

test('the OpenAPI document carries the admin routes and their schemas', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
  for (const path of [
    '/v1/admin/versions',
    '/v1/admin/rollback',
    '/v1/admin/train',
    '/v1/admin/runs',
    '/v1/admin/runs/{id}',
  ]) {
    assert.ok(doc.paths[path], path);
  }
  assert.ok(doc.components.schemas.AdminRunSummary);
  assert.ok(doc.paths['/v1/admin/train'].post.responses['202']);
});

test('the audit log holds admin actions and feedback without keys or free text', async () => {
  const secretComment = 'patient-name-Jane-Doe-comment';
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/feedback',
    headers: bearer(FEEDBACK_KEY),
    payload: {
      request_id: 'req-1',
      verdict: 'incorrect',
      correct_answer: 'no effusion here',
      comment: secretComment,
    },
  });
  assert.equal(res.statusCode, 200);
  await h.app.inject({ method: 'GET', url: '/v1/admin/versions', headers: bearer(ANSWER_KEY) });
  await h.audit.close();
  const text = await readFile(h.audit.path, 'utf8');
  for (const secret of [
    ADMIN_KEY,
    ANSWER_KEY,
    FEEDBACK_KEY,
    secretComment,
    'no effusion here',
    'hallucinates',
  ]) {
    assert.ok(!text.includes(secret), `audit log leaks ${secret}`);
  }
  const lines = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const feedback = lines.find((l) => l.action === 'feedback');
  assert.equal(feedback.outcome, 'ok');
  // The judged answer's request_id only as the hash the hard-example store keys it by.
  assert.match(feedback.target, /^[0-9a-f]{64}$/);
  assert.deepEqual(feedback.details, {
    verdict: 'incorrect',
    correct_answer_chars: 16,
    comment_chars: secretComment.length,
  });
  const rollbacks = lines.filter((l) => l.action === 'admin.rollback');
  // Refusals are audited too: the unauthenticated and the unscoped attempt of the first test.
  assert.deepEqual(
    rollbacks.map((l) => l.status),
    [401, 403, 200, 409, 404, 400, 200],
  );
  assert.equal(rollbacks[0].actor, 'anonymous');
  assert.equal(rollbacks[2].details.reason_chars, 'candidate hallucinates effusions'.length);
  assert.match(rollbacks[2].actor, /^[0-9a-f]{12}$/);
  const forbidden = lines.find((l) => l.action === 'admin.versions' && l.status === 403);
  assert.equal(forbidden?.outcome, 'refused');
  assert.ok(lines.every((l) => typeof l.time === 'string' && l.http_request));
});
