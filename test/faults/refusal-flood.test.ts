/**
 * Attack (issue 13, defect 9): 1,500 wrong-key requests in a second got no 429 and wrote ~2,700
 * audit lines; the audit `target` took attacker text; the audit queue dropped entries past 10,000.
 * Now a per-address limit runs before authentication, repeated refusals are folded into summary
 * lines per window, and every audit field has a known shape.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../../src/server/app.ts';
import { AuditLog, shapeEntry } from '../../src/server/audit-log.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { ADMIN_KEY, bearer, FakeAnswerService, testConfig } from '../server/helpers.ts';

test('a flood of wrong keys from one address is cut by 429 before authentication and audited in a few lines', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-flood-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const audit = new AuditLog({ path: join(dir, 'audit.jsonl') });
  const app = await buildApp({
    config: testConfig({ CHEXPO_RATE_LIMIT_ADDRESS_MAX: '20' }),
    metrics: createMetrics({ defaultMetrics: false }),
    answerService: new FakeAnswerService(),
    audit,
  });
  const statuses = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/admin/rollback',
      headers: bearer(`wrong-key-guess-${String(i).padStart(6, '0')}`),
      payload: { to: '../../etc/passwd; rm -rf /', reason: 'x' },
      remoteAddress: '10.0.0.7',
    });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode === 429) assert.equal(res.json().error.code, 'RATE_LIMITED');
  }
  assert.deepEqual([...statuses.entries()].sort(), [
    [401, 20],
    [429, 280],
  ]);
  // A real admin action from another address is neither limited nor lost in the flood.
  const real = await app.inject({
    url: '/v1/admin/versions',
    headers: bearer(ADMIN_KEY),
    remoteAddress: '10.0.0.8',
  });
  assert.equal(real.statusCode, 503, real.body); // no registry attached: ADMIN_UNAVAILABLE, audited as failed
  await app.close();
  await audit.close();

  const lines = (await readFile(audit.path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(lines.length <= 5, `${lines.length} audit lines for 301 requests`);
  const refusals = lines.filter((l) => l.action === 'admin.rollback');
  const written = refusals.length + refusals.reduce((sum, l) => sum + (l.details?.repeated ?? 0), 0);
  assert.equal(
    written - refusals.filter((l) => l.details?.repeated).length,
    300,
    'every refusal counted once',
  );
  assert.ok(lines.some((l) => l.action === 'admin.versions' && l.actor !== 'anonymous'));
  for (const line of refusals)
    assert.ok([undefined, null, '[invalid]'].includes(line.target), JSON.stringify(line));
  assert.ok(!JSON.stringify(lines).includes('passwd'));
});

test('audit fields keep known shapes: free text, odd keys and odd values never reach the file', () => {
  assert.deepEqual(
    shapeEntry({
      action: 'admin.rollback',
      actor: 'anonymous',
      outcome: 'refused',
      target: 'v0001"}\n{"forged":true',
      status: 400,
      http_request: 'req-1',
      details: {
        reason_chars: 12,
        'Bad Key!': 1,
        note: 'free text here',
        ok: true,
        code: 'ROLLBACK_REFUSED',
      },
    }),
    {
      action: 'admin.rollback',
      actor: 'anonymous',
      outcome: 'refused',
      target: '[invalid]',
      status: 400,
      http_request: 'req-1',
      details: { reason_chars: 12, note: '[invalid]', ok: true, code: 'ROLLBACK_REFUSED' },
    },
  );
  assert.equal(shapeEntry({ action: 'x\ny', actor: 'k', outcome: 'ok' }).action, 'unknown');
});
