import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunRecordDoc } from '../../src/loop/record.ts';
import type { NewHardExample } from '../../src/store/index.ts';
import { until } from '../support/until.ts';
import { DIM, makeHarness, metricValue } from './fixtures/trainer-harness.ts';
import { ADMIN_KEY, bearer } from './helpers.ts';

const admin = bearer(ADMIN_KEY);

async function storedDoc(h: Awaited<ReturnType<typeof makeHarness>>, id: string): Promise<RunRecordDoc> {
  const run = await h.store.getRun(id);
  assert.ok(run, `run ${id} is stored`);
  return JSON.parse(run.record) as RunRecordDoc;
}

test('POST /v1/admin/train: 202, then 409 while the run is going; the finished run updates the metrics', async (t) => {
  const h = await makeHarness();
  t.after(() => h.close());
  const release = join(h.dir, 'release');
  // The stub waits for this file, so the run stays in progress while the test asks again.
  h.stubEnv.STUB_LOOP_RELEASE = release;

  const first = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/train',
    headers: admin,
    payload: { reason: 'new data' },
  });
  assert.equal(first.statusCode, 202, first.body);
  const runId = first.json().run_id as string;
  assert.match(runId, /^run-\d{8}-\d{6}-[0-9a-f]{6}$/);
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_run_active'), 1);

  const second = await h.app.inject({ method: 'POST', url: '/v1/admin/train', headers: admin });
  assert.equal(second.statusCode, 409, second.body);
  assert.equal(second.json().error.code, 'TRAINER_BUSY');
  const runs = await h.app.inject({ method: 'GET', url: '/v1/admin/runs', headers: admin });
  assert.equal(runs.json().active, runId);

  await writeFile(release, '');
  const finished = await h.trainer.whenIdle();
  assert.equal(finished?.outcome, 'promoted');
  assert.equal(finished?.markedFailed, false);
  assert.equal((await storedDoc(h, runId)).status, 'promoted');
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_runs_total', { outcome: 'promoted' }), 1);
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_pairs_total', { kind: 'negation' }), 7);
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_dpo_final_accuracy_ratio'), 0.9);
  assert.equal(
    await metricValue(h.metrics, 'chexpo_loop_run_duration_seconds_count', { outcome: 'promoted' }),
    1,
  );
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_run_active'), 0);

  const args = JSON.parse(await readFile(join(h.dir, 'runs', `${runId}.args.json`), 'utf8'));
  const flag = (name: string) => args.argv[args.argv.indexOf(name) + 1];
  assert.deepEqual(args.argv.slice(0, 2), ['loop', 'run']);
  assert.equal(flag('--trigger'), 'admin');
  assert.equal(flag('--threads'), '1');
  assert.equal(flag('--run-id'), runId);
  assert.equal(args.omp, '1');

  const again = await h.app.inject({ method: 'POST', url: '/v1/admin/train', headers: admin });
  assert.equal(again.statusCode, 202, 'idle again after the run');
  await writeFile(release, '');
  await h.trainer.whenIdle();
});

test('a crashed run is marked failed in the store and counted; serving keeps answering', async (t) => {
  const h = await makeHarness({ stub: { STUB_LOOP_MODE: 'crash' } });
  t.after(() => h.close());
  const started = await h.app.inject({ method: 'POST', url: '/v1/admin/train', headers: admin });
  const runId = started.json().run_id as string;
  const finished = await h.trainer.whenIdle();
  assert.equal(finished?.exit.code, 3);
  assert.equal(finished?.markedFailed, true);
  const doc = await storedDoc(h, runId);
  assert.equal(doc.status, 'failed');
  assert.equal(doc.error?.code, 'TRAINER_CHILD_CRASHED');
  assert.equal(doc.base_version, 'v0001', 'what the child wrote is kept');
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_runs_total', { outcome: 'failed' }), 1);
  assert.equal((await h.app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode, 200);
  const run = await h.app.inject({ method: 'GET', url: `/v1/admin/runs/${runId}`, headers: admin });
  assert.equal(run.json().run.error.code, 'TRAINER_CHILD_CRASHED');
});

test('a run that dies before writing a record gets one; a run that records its own failure keeps it', async (t) => {
  const h = await makeHarness({ stub: { STUB_LOOP_MODE: 'crash-early' } });
  t.after(() => h.close());
  const early = h.trainer.trigger('manual', 'test');
  await h.trainer.whenIdle();
  const doc = await storedDoc(h, early.runId);
  assert.deepEqual(
    [doc.status, doc.trigger, doc.base_version, doc.error?.code],
    ['failed', 'manual', 'v0002', 'TRAINER_CHILD_CRASHED'],
  );

  h.stubEnv.STUB_LOOP_MODE = 'fail';
  const own = h.trainer.trigger('manual', 'test');
  const finished = await h.trainer.whenIdle();
  assert.equal(finished?.markedFailed, false);
  assert.equal((await storedDoc(h, own.runId)).error?.code, 'LOOP_NO_PAIRS');
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_runs_total', { outcome: 'failed' }), 2);
});

function hardExample(i: number, createdAt: number): NewHardExample {
  return {
    id: `he-${i}`,
    created_at: createdAt,
    model_version: 'v0002',
    task: 'vqa',
    question: 'Is there an effusion?',
    answer: 'yes',
    token_probs: [0.4],
    min_prob: 0.4,
    mean_logprob: Math.log(0.4),
    risk: 0.8,
    embedding: new Float32Array(DIM).fill(1 / Math.sqrt(DIM)),
    image_sha256: 'a'.repeat(64),
    source: 'live',
  };
}

test('the poll starts a run when enough hard examples arrived since the last run, and by the clock', async (t) => {
  let now = Date.UTC(2025, 0, 1);
  const h = await makeHarness({
    stub: { STUB_LOOP_MODE: 'crash-early' },
    trainer: { minHardExamples: 3, intervalMs: 3_600_000, now: () => now, pollMs: 3_600_000 },
  });
  t.after(() => h.close());
  // A function, so TypeScript does not narrow the getter after the first `null` assertion.
  const active = () => h.trainer.active;
  await h.trainer.start();
  await h.store.addHardExamples([hardExample(1, now - 60_000), hardExample(2, now + 1000)]);
  await h.trainer.tick();
  assert.equal(active(), null, 'one new example is not enough (the older one predates the anchor)');
  assert.equal(await metricValue(h.metrics, 'chexpo_loop_hard_examples_pending'), 2);

  await h.store.addHardExamples([hardExample(3, now + 2000), hardExample(4, now + 3000)]);
  now += 5000;
  await h.trainer.tick();
  assert.equal(active()?.trigger, 'hard_examples');
  await h.trainer.whenIdle();

  now += 10_000;
  await h.trainer.tick();
  assert.equal(active(), null, 'the examples before the last run do not trigger again');
  now += 3_600_000;
  await h.trainer.tick();
  assert.equal(active()?.trigger, 'schedule');
  await h.trainer.whenIdle();
});

test('with the trainer disabled, POST /v1/admin/train answers TRAINER_DISABLED and the poll does nothing', async (t) => {
  const h = await makeHarness({ trainer: { enabled: false, intervalMs: 1, now: () => Date.now() + 1e9 } });
  t.after(() => h.close());
  const res = await h.app.inject({ method: 'POST', url: '/v1/admin/train', headers: admin });
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().error.code, 'TRAINER_DISABLED');
  await h.trainer.tick();
  assert.equal(h.trainer.active, null);
});

test('close() stops a running child and records the run as stopped', async (t) => {
  const h = await makeHarness({
    stub: { STUB_LOOP_MODE: 'promote', STUB_LOOP_RELEASE: '/nonexistent/never' },
  });
  t.after(() => h.close());
  const run = h.trainer.trigger('admin', 'test');
  // Wait until the child has written its `running` record, then shut down.
  await until(
    async () => (await h.store.getRun(run.runId)) !== null,
    'the child to write its running record',
    {
      everyMs: 50,
    },
  );
  await h.trainer.close();
  const doc = await storedDoc(h, run.runId);
  assert.equal(doc.status, 'failed');
  assert.equal(doc.error?.code, 'TRAINER_STOPPED');
});
