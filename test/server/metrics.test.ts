import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createMetrics, METRIC_CATALOGUE } from '../../src/server/metrics.ts';
import { observeVersionScores } from '../../src/server/trainer/run-metrics.ts';
import { ANSWER_KEY, bearer, FAKE_PNG, testApp } from './helpers.ts';

const auth = bearer(ANSWER_KEY);

async function value(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  // Histogram samples carry their own name (…_bucket, …_count) under the histogram's base name.
  const samples = (await metrics.registry.getMetricsAsJSON()).flatMap((m) =>
    m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })),
  );
  const sample = samples.find(
    (v) => v.name === name && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  );
  return Number(sample?.value ?? 0);
}

test('catalogue names follow chexpo_<subsystem>_<name>_<unit>, are unique, and label sets are small', () => {
  const names = Object.values(METRIC_CATALOGUE).map((m) => m.name);
  assert.equal(new Set(names).size, names.length);
  for (const spec of Object.values(METRIC_CATALOGUE)) {
    // Two loop names are fixed by deploy/prometheus and docs/deployment.md (no unit suffix); a 0/1
    // state has no unit; build info follows Prometheus' `<namespace>_build_info` convention.
    const fixedByDeploy = [
      'chexpo_loop_eval_score',
      'chexpo_loop_hard_examples_pending',
      'chexpo_loop_run_active',
      'chexpo_build_info',
    ];
    if (!fixedByDeploy.includes(spec.name))
      assert.match(
        spec.name,
        /^chexpo_[a-z]+_[a-z_]+_(total|seconds|ratio|requests|info|healthy|nats)$/,
        spec.name,
      );
    assert.ok(spec.labels.length <= 3, spec.name);
    for (const label of spec.labels)
      assert.doesNotMatch(label, /id|question|text|answer/, `${spec.name}: ${label}`);
  }
});

test('requests move the counters; no label carries a request id or question text', async () => {
  const { app, metrics } = await testApp();
  const question = 'Is there a left-sided pneumothorax secret-phrase?';
  const requestId = 'req-unique-987654';
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: { image: FAKE_PNG.toString('base64'), question, request_id: requestId },
  });
  assert.equal(ok.statusCode, 200);
  await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: auth,
    payload: { image: FAKE_PNG.toString('base64') },
  });
  await app.inject({ url: '/v2/models/some-unknown-model' });
  await app.inject({ url: `/no/such/route/${requestId}` });

  const answerLabels = { method: 'POST', route: '/v1/answer' };
  assert.equal(
    await value(metrics, 'chexpo_http_requests_total', { ...answerLabels, status_code: '200' }),
    1,
  );
  assert.equal(
    await value(metrics, 'chexpo_http_requests_total', { ...answerLabels, status_code: '400' }),
    1,
  );
  assert.equal(
    await value(metrics, 'chexpo_http_requests_total', { route: '/v2/models/:name', status_code: '404' }),
    1,
  );
  assert.equal(
    await value(metrics, 'chexpo_http_requests_total', { route: 'unmatched', status_code: '404' }),
    1,
  );
  assert.equal(await value(metrics, 'chexpo_http_errors_total', { code: 'QUESTION_REQUIRED' }), 1);
  assert.equal(await value(metrics, 'chexpo_http_errors_total', { code: 'NOT_FOUND' }), 2);
  assert.equal(await value(metrics, 'chexpo_answer_completed_total', { task: 'vqa' }), 1);
  assert.equal(await value(metrics, 'chexpo_answer_flagged_total', { task: 'vqa' }), 1);
  assert.equal(await value(metrics, 'chexpo_answer_risk_ratio_count', { task: 'vqa' }), 1);
  assert.equal(await value(metrics, 'chexpo_answer_risk_ratio_bucket', { task: 'vqa', le: '0.7' }), 0);
  assert.equal(await value(metrics, 'chexpo_answer_risk_ratio_bucket', { task: 'vqa', le: '0.8' }), 1);

  const exposition = (await app.inject({ url: '/metrics' })).body;
  assert.match(exposition, /chexpo_http_request_duration_seconds_bucket\{/);
  for (const secret of [requestId, 'secret-phrase', 'pneumothorax'])
    assert.ok(!exposition.includes(secret), secret);
  await app.close();
});

test('each app has its own registry, so many apps can coexist', async () => {
  const a = createMetrics({ defaultMetrics: false });
  const b = createMetrics({ defaultMetrics: false });
  a.answers.inc({ task: 'vqa' });
  assert.equal(await value(a, 'chexpo_answer_completed_total', { task: 'vqa' }), 1);
  assert.equal(await value(b, 'chexpo_answer_completed_total', { task: 'vqa' }), 0);
  const withDefaults = createMetrics();
  assert.match(await withDefaults.registry.metrics(), /process_cpu_seconds_total/);
});

test('build info is 1 with the package and Node versions; DPO final gauges have no sample before a run', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const exposition = await metrics.registry.metrics();
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.match(
    exposition,
    new RegExp(`^chexpo_build_info\\{version="${pkg.version}",node_version="${process.version}"\\} 1$`, 'm'),
  );
  for (const name of [
    'chexpo_loop_dpo_final_loss_nats',
    'chexpo_loop_dpo_final_margin_nats',
    'chexpo_loop_dpo_final_accuracy_ratio',
  ]) {
    assert.match(exposition, new RegExp(`^# TYPE ${name} gauge$`, 'm'));
    assert.doesNotMatch(exposition, new RegExp(`^${name} `, 'm'), `${name} has a sample before any run`);
  }
  metrics.loopDpoLoss.set(0.42);
  assert.match(await metrics.registry.metrics(), /^chexpo_loop_dpo_final_loss_nats 0\.42$/m);
  assert.doesNotMatch(await metrics.registry.metrics(), /^chexpo_loop_dpo_final_margin_nats /m);
});

test('eval scores are exported for the served versions only, however many the registry holds', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const entries = Array.from({ length: 30 }, (_, i) => ({
    version: `v${String(i + 1).padStart(4, '0')}`,
    manifest: { eval: { metrics: { primary: { value: 0.4 + i / 100 } } } },
  })) as unknown as Parameters<typeof observeVersionScores>[1];
  const series = async () =>
    (await metrics.loopEvalScore.get()).values.map((v) => [v.labels.version, v.value]);
  observeVersionScores(metrics, entries, ['v0030', 'v0029']);
  assert.deepEqual(await series(), [
    ['v0029', 0.68],
    ['v0030', 0.69],
  ]);
  // After the swap only the new version remains; an unknown or score-less version adds nothing.
  observeVersionScores(metrics, entries, ['v0030', null, 'v9999']);
  assert.deepEqual(await series(), [['v0030', 0.69]]);
});
