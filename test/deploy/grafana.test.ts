/**
 * deploy/grafana/chexpo.json: every PromQL expression reads only metrics that exist (catalogue, Node
 * defaults, recording rules, the pending loop metrics), parses (promtool), and the dashboard covers
 * the topics issue 6 asks for. Also pins the metric-name scrubber the check relies on.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { knownMetricNames, metricNamesIn } from './promql-names.ts';

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(await readFile(join(DEPLOY, 'grafana', 'chexpo.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: string | { query: string } }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const expressions = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
  ...dashboard.templating.list
    .filter((v) => typeof v.query === 'object')
    .map((v) => ({ where: `variable ${v.name}`, expr: (v.query as { query: string }).query })),
];

async function recordedNames(): Promise<string[]> {
  const dir = join(DEPLOY, 'prometheus', 'rules');
  const names: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml'))) {
    const rules = parse(await readFile(join(dir, file), 'utf8')) as {
      groups: { rules: { record?: string }[] }[];
    };
    names.push(...rules.groups.flatMap((g) => g.rules.flatMap((r) => r.record ?? [])));
  }
  return names;
}

/** The dashboard's PromQL with Grafana's variables filled in, as plain PromQL. */
function asPromQL(expr: string): string {
  const labelValues = /^label_values\((\w+),\s*\w+\)$/.exec(expr);
  if (labelValues) return labelValues[1];
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$task', '.*');
}

test('the scrubber finds metric names and nothing else', () => {
  assert.deepEqual(
    metricNamesIn(
      'histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{route="/v1/answer",x=~"b|c"}[5m]))) > 1.5e3',
    ),
    ['a_bucket'],
  );
  assert.deepEqual(
    metricNamesIn('x:y:z{t="up"} > 2 * x:y:w offset 1d and on (instance) up == 1 or vector(0)'),
    ['x:y:z', 'x:y:w', 'up'],
  );
  assert.deepEqual(metricNamesIn('max(a * on (version) group_left () max by (version) (b == 1))'), [
    'a',
    'b',
  ]);
  assert.deepEqual(metricNamesIn('sum(rate(m{task=~"$task"}[$__rate_interval])) by (task)'), ['m']);
});

test('every dashboard expression reads only metrics that exist', async () => {
  const allowed = new Set([...knownMetricNames(), ...(await recordedNames())]);
  assert.ok(expressions.length >= 25, `${expressions.length} expressions`);
  const unknown = expressions.flatMap(({ where, expr }) =>
    metricNamesIn(asPromQL(expr))
      .filter((name) => !allowed.has(name))
      .map((name) => `${where}: ${name}`),
  );
  assert.deepEqual(unknown, []);
});

test('every dashboard expression is valid PromQL (promtool check rules)', async (t) => {
  const rules = expressions.map(({ expr }, i) => ({ record: `dashboard_expr_${i}`, expr: asPromQL(expr) }));
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-grafana-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'dashboard-rules.yaml');
  await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
  try {
    await promisify(execFile)('promtool', ['check', 'rules', file]);
  } catch (thrown) {
    const error = thrown as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (error.code === 'ENOENT') {
      assert.fail('promtool is not installed: apt-get install -y --no-install-recommends prometheus');
    }
    assert.fail(`${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
});

test('the dashboard covers latency, throughput, confidence, risk, flags, queue, store, versions and the loop', () => {
  const text = expressions.map((e) => e.expr).join('\n');
  for (const metric of [
    'chexpo_http_request_duration_seconds',
    'chexpo_http_requests_total',
    'chexpo_engine_token_probability_ratio_bucket',
    'chexpo_answer_risk_ratio_bucket',
    'chexpo_answer_flagged',
    'chexpo_engine_queue_requests',
    'chexpo_store_write_failures_total',
    'chexpo_store_writes_dropped_total',
    'chexpo_model_version_info',
    'chexpo_ready_replicas',
    'chexpo_loop_runs',
    'chexpo_served_eval_score',
  ]) {
    assert.ok(text.includes(metric), `no panel reads ${metric}`);
  }
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  assert.equal(dashboard.uid, 'chexpo-overview');
});
