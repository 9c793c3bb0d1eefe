import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditLog } from '../../src/server/audit-log.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { metricValue } from './fixtures/trainer-harness.ts';

test('entries written together become whole lines, in order, each with a time', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const metrics = createMetrics({ defaultMetrics: false });
  const audit = new AuditLog({ path: join(dir, 'nested', 'audit.jsonl'), metrics, now: () => new Date(0) });
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      audit.record({ action: 'admin.train', actor: 'abc', outcome: 'ok', target: `run-${i}` }),
    ),
  );
  await audit.close();
  const lines = (await readFile(audit.path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 200);
  assert.deepEqual(
    lines.map((l) => l.target),
    Array.from({ length: 200 }, (_, i) => `run-${i}`),
  );
  assert.equal(lines[0].time, '1970-01-01T00:00:00.000Z');
  assert.equal(
    await metricValue(metrics, 'chexpo_audit_events_total', { action: 'admin.train', outcome: 'ok' }),
    200,
  );
});

test('appends to an existing log instead of replacing it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'audit.jsonl');
  await writeFile(path, '{"earlier":true}\n');
  const audit = new AuditLog({ path });
  await audit.record({ action: 'feedback', actor: 'k', outcome: 'refused' });
  await audit.close();
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(JSON.parse(lines[0]).earlier, true);
});

test('a log that cannot be written is counted and logged, never thrown, and heals when the fault clears', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const blocker = join(dir, 'blocker');
  await writeFile(blocker, 'a file where the log directory should be');
  const metrics = createMetrics({ defaultMetrics: false });
  const logged: string[] = [];
  const path = join(blocker, 'audit.jsonl');
  const audit = new AuditLog({ path, metrics, log: (message) => logged.push(message) });
  await audit.record({ action: 'admin.rollback', actor: 'k', outcome: 'ok' });
  await audit.record({ action: 'admin.rollback', actor: 'k', outcome: 'ok' });
  assert.equal(await metricValue(metrics, 'chexpo_audit_write_failures_total'), 2);
  assert.equal(logged.length, 2);

  await rm(blocker);
  await audit.record({ action: 'admin.rollback', actor: 'k', outcome: 'ok' });
  await audit.close();
  assert.equal((await readFile(path, 'utf8')).trim().split('\n').length, 1);
  assert.equal(await metricValue(metrics, 'chexpo_audit_write_failures_total'), 2);
});
