/**
 * deploy/prometheus through promtool (Debian's `prometheus` package; .ci/run installs it): the rule
 * files check, their unit tests pass (every alert has a firing and a quiet case), the scrape config
 * checks, and every metric a rule reads exists in the catalogue (or is a loop metric still pending).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createMetrics } from '../../src/server/metrics.ts';
import { knownMetricNames, metricNamesIn } from './promql-names.ts';

const run = promisify(execFile);
const PROM_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus');
const RULES_DIR = join(PROM_DIR, 'rules');
const TESTS_DIR = join(PROM_DIR, 'tests');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { maxBuffer: 8 << 20 });
    return stdout + stderr;
  } catch (thrown) {
    const error = thrown as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (error.code === 'ENOENT') {
      assert.fail(
        'promtool is not installed: apt-get install -y --no-install-recommends prometheus (.ci/run does this in CI)',
      );
    }
    assert.fail(`promtool ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
}

async function yamlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
}

async function ruleFiles(): Promise<Map<string, RuleFile>> {
  const files = new Map<string, RuleFile>();
  for (const path of await yamlFiles(RULES_DIR)) files.set(path, parse(await readFile(path, 'utf8')));
  return files;
}

test('promtool check rules accepts every rule file', async () => {
  const output = await promtool('check', 'rules', ...(await yamlFiles(RULES_DIR)));
  assert.match(output, /SUCCESS/);
});

test('promtool test rules: every unit test passes', async () => {
  const output = await promtool('test', 'rules', ...(await yamlFiles(TESTS_DIR)));
  assert.doesNotMatch(output, /FAILED/);
});

test('every alert has a firing and a quiet case in the unit tests', async () => {
  const alerts = [...(await ruleFiles()).values()].flatMap((f) =>
    f.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : []))),
  );
  const firing = new Set<string>();
  const quiet = new Set<string>();
  for (const path of await yamlFiles(TESTS_DIR)) {
    const spec = parse(await readFile(path, 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    for (const t of spec.tests) {
      for (const a of t.alert_rule_test ?? []) {
        ((a.exp_alerts ?? []).length > 0 ? firing : quiet).add(a.alertname);
      }
    }
  }
  assert.ok(alerts.length >= 13, `expected the full alert set, found ${alerts.join(', ')}`);
  assert.deepEqual(
    alerts.filter((a) => !firing.has(a)),
    [],
    'alerts without a firing test',
  );
  assert.deepEqual(
    alerts.filter((a) => !quiet.has(a)),
    [],
    'alerts without a quiet test',
  );
});

test('the rules read only catalogue metrics, recording rules and up', async () => {
  const files = await ruleFiles();
  const records = new Set(
    [...files.values()].flatMap((f) => f.groups.flatMap((g) => g.rules.flatMap((r) => r.record ?? []))),
  );
  const allowed = new Set([...knownMetricNames(), ...records]);
  const unknown: string[] = [];
  for (const [path, file] of files) {
    for (const rule of file.groups.flatMap((g) => g.rules)) {
      for (const name of metricNamesIn(rule.expr)) {
        if (!allowed.has(name)) unknown.push(`${path}: ${rule.alert ?? rule.record} reads ${name}`);
      }
    }
  }
  assert.deepEqual(unknown, []);
});

test('promtool check config accepts the scrape config and its rule files', async (t) => {
  // Debian's promtool is built without Kubernetes service discovery, so the check runs on a copy
  // whose kubernetes_sd_configs is swapped for a static target; relabelling and rule files are
  // checked as written.
  const text = await readFile(join(PROM_DIR, 'prometheus.yml'), 'utf8');
  const config = parse(text) as {
    rule_files: string[];
    scrape_configs: { job_name: string; kubernetes_sd_configs?: unknown; static_configs?: unknown }[];
  };
  assert.ok(config.scrape_configs.some((s) => s.job_name === 'chexpo' && s.kubernetes_sd_configs));
  const ruleFilesOnDisk = (await yamlFiles(RULES_DIR)).map((p) => p.slice(PROM_DIR.length + 1));
  assert.deepEqual([...config.rule_files].sort(), ruleFilesOnDisk, 'prometheus.yml loads every rule file');
  for (const scrape of config.scrape_configs) {
    if (!scrape.kubernetes_sd_configs) continue;
    delete scrape.kubernetes_sd_configs;
    scrape.static_configs = [{ targets: ['127.0.0.1:8080'] }];
  }
  config.rule_files = config.rule_files.map((f) => join(PROM_DIR, f));
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-prom-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const copy = join(dir, 'prometheus.yml');
  await writeFile(copy, JSON.stringify(config));
  const output = await promtool('check', 'config', copy);
  assert.match(output, /SUCCESS/);
});

/** GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

test('every alert has a runbook_url pointing at its own section of docs/runbooks.md', async () => {
  const runbooks = await readFile(join(PROM_DIR, '..', '..', 'docs', 'runbooks.md'), 'utf8');
  const anchors = new Set([...runbooks.matchAll(/^#{2,3} (.+)$/gm)].map((m) => anchorOf(m[1])));
  const alerts = [...(await ruleFiles()).values()].flatMap((f) =>
    f.groups.flatMap((g) => g.rules.filter((r) => r.alert)),
  );
  assert.ok(alerts.length >= 13);
  for (const rule of alerts) {
    const url = rule.annotations?.runbook_url;
    assert.equal(url, `docs/runbooks.md#${rule.alert!.toLowerCase()}`, rule.alert);
    assert.ok(anchors.has(url!.split('#')[1]), `docs/runbooks.md has no section for ${rule.alert}`);
  }
});

test('promtool check metrics accepts the exposition of every catalogue metric', async (t) => {
  const metrics = createMetrics();
  // One sample for every metric (a label-free gauge without a value shows no sample: set them all).
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const m = metric as unknown as {
      labelNames: string[];
      set?: (labels: object, v: number) => void;
      inc?: (labels: object, v: number) => void;
      observe?: (labels: object, v: number) => void;
    };
    const labels = Object.fromEntries(m.labelNames.map((l) => [l, 'x']));
    if (m.observe) m.observe(labels, 0.5);
    else if (m.set) m.set(labels, 1);
    else m.inc?.(labels, 1);
  }
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-metrics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const exposition = await metrics.registry.metrics();
  for (const name of [
    'chexpo_build_info',
    'chexpo_engine_time_per_output_token_seconds_bucket',
    'chexpo_engine_running_requests',
    'chexpo_engine_waiting_requests',
    'chexpo_loop_run_active',
  ]) {
    assert.match(exposition, new RegExp(`^${name}[{ ]`, 'm'), name);
  }
  const output = await new Promise<string>((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) =>
      // promtool exits non-zero when it finds problems; its findings are the output either way.
      error && !stdout && !stderr ? reject(error) : resolve(stdout + stderr),
    );
    child.stdin?.end(exposition);
  });
  const chexpoProblems = output.split('\n').filter((line) => line.startsWith('chexpo_'));
  assert.deepEqual(chexpoProblems, []);
});
