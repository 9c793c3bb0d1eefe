/**
 * Crash safety of loop rounds (issue 13, defect 1): `kill -9` of the server orphaned its
 * `chexpo loop run` child, a restarted server started a second round on the same registry, the
 * orphan's run stayed `running` forever, and publishing moved CURRENT without checking it still
 * named the round's base. Now rounds hold a single-writer lease with a heartbeat, the child exits
 * when its parent goes away, dead `running` runs are reconciled to failed, and publishing is a
 * compare-and-swap on CURRENT.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { emptyRunRecord } from '../../src/loop/record.ts';
import { LeaseHeldError, leasePath, Registry, RoundLease, readLease } from '../../src/registry/index.ts';
import { makeHarness } from '../server/fixtures/trainer-harness.ts';
import { ADMIN_KEY, bearer } from '../server/helpers.ts';
import { until } from '../support/until.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }, label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `chexpo-${label}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Alive and not a zombie (a reparented child may wait for a reaper that never comes). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

test('one holder at a time; an expired lease is taken over by exactly one contender; the old holder learns it lost', async (t) => {
  const dir = await tempDir(t, 'lease');
  const path = join(dir, '.round-lease.json');
  const first = await RoundLease.acquire(path, { holder: 'a', runId: 'run-a', ttlMs: 60_000 });
  await assert.rejects(RoundLease.acquire(path, { holder: 'b', runId: 'run-b' }), (e: unknown) => {
    assert.ok(e instanceof LeaseHeldError);
    assert.equal(e.lease.run_id, 'run-a');
    assert.equal(e.lease.pid, process.pid);
    return true;
  });
  assert.equal(await first.heartbeat(), true);
  await first.release();
  assert.equal(existsSync(path), false);

  // A dead holder: its heartbeat is older than its ttl.
  const dead = await RoundLease.acquire(path, { holder: 'dead', runId: 'run-dead', ttlMs: 60_000 });
  const stale = { ...(await readLease(path))!, heartbeat_at: new Date(Date.now() - 120_000).toISOString() };
  await writeFile(path, JSON.stringify(stale));
  const contenders = await Promise.allSettled(
    Array.from({ length: 5 }, (_, i) => RoundLease.acquire(path, { holder: `c${i}`, runId: `run-c${i}` })),
  );
  const winners = contenders.filter((c) => c.status === 'fulfilled');
  assert.equal(winners.length, 1, JSON.stringify(contenders.map((c) => c.status)));
  assert.ok(contenders.every((c) => c.status === 'fulfilled' || c.reason instanceof LeaseHeldError));
  assert.equal(await dead.heartbeat(), false);
  assert.equal(dead.lost, true);
  await (winners[0] as PromiseFulfilledResult<RoundLease>).value.release();
});

for (const moment of ['once the child holds the lease', 'at once, before the child watches its parent']) {
  test(`kill -9 of the process that spawned a round, ${moment}: the round exits and leaves no lease`, async (t) => {
    const dir = await tempDir(t, 'orphan');
    const registryRoot = join(dir, 'registry');
    await mkdir(join(registryRoot, 'm'), { recursive: true });
    const parent = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./fixtures/trainer-parent.ts', import.meta.url).pathname,
        registryRoot,
        'm',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    parent.stdout.on('data', (c) => (output += c));
    parent.stderr.on('data', (c) => (output += c));
    t.after(() => void parent.kill('SIGKILL'));
    await until(() => /"childPid":\d+/.test(output), 'the parent to report its child', {
      state: () => output,
    });
    const childPid = JSON.parse(output.split('\n')[0]).childPid as number;
    t.after(() => {
      if (alive(childPid)) process.kill(childPid, 'SIGKILL');
    });
    const lease = leasePath(registryRoot, 'm');
    const log = join(dir, 'run-orphan-check.log');
    if (moment.startsWith('once'))
      await until(
        () => existsSync(log) && readFileSync(log, 'utf8').includes('holding'),
        'the child to take the lease',
        {
          state: () => output,
        },
      );

    parent.kill('SIGKILL');
    await until(() => !alive(childPid), 'the orphaned round to exit', {
      state: () => `child ${childPid} still alive`,
    });
    assert.equal(existsSync(lease), false, 'the lease was given back');
    const next = await RoundLease.acquire(lease, { holder: 'restarted server', runId: 'run-next' });
    await next.release();
  });
}

test('a restarted server: busy while another process holds a live lease; dead running runs reconciled to failed', async (t) => {
  const h = await makeHarness();
  t.after(() => h.close());
  const path = leasePath(h.registry.root, h.registry.name);
  // An orphan's run left `running` without a live lease, and a live round elsewhere with its lease.
  for (const id of ['run-orphan', 'run-live']) {
    const doc = emptyRunRecord({
      id,
      trigger: 'admin',
      status: 'running',
      started_at: Date.now(),
      base_version: 'v0002',
    });
    await h.store.putRun({
      id,
      started_at: doc.started_at,
      finished_at: null,
      status: 'running',
      record: JSON.stringify(doc),
    });
  }
  const live = await RoundLease.acquire(path, { holder: 'other replica', runId: 'run-live' });
  t.after(() => live.release());

  const busy = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/train',
    headers: bearer(ADMIN_KEY),
    payload: {},
  });
  assert.equal(busy.statusCode, 409, busy.body);
  assert.equal(busy.json().error.code, 'TRAINER_BUSY');
  assert.match(busy.json().error.message, /run-live holds the registry lease/);

  await h.trainer.start();
  const orphan = await h.store.getRun('run-orphan');
  assert.equal(orphan?.status, 'failed');
  assert.equal(JSON.parse(orphan!.record).error.code, 'TRAINER_ORPHANED');
  assert.equal(
    (await h.store.getRun('run-live'))?.status,
    'running',
    'a run with a live lease is left alone',
  );

  await live.release();
  const started = await h.app.inject({
    method: 'POST',
    url: '/v1/admin/train',
    headers: bearer(ADMIN_KEY),
    payload: {},
  });
  assert.equal(started.statusCode, 202, started.body);
  await h.trainer.whenIdle();
});

test('publishing is a compare-and-swap on CURRENT: a rollback made during the round wins', async (t) => {
  const dir = await tempDir(t, 'cas');
  const registry = await Registry.open(dir, 'm');
  t.after(() => registry.close());
  for (const version of ['v0001', 'v0002', 'v0003']) {
    const staging = join(dir, `staging-${version}`);
    await mkdir(staging);
    await writeFile(join(staging, 'weights.bin'), version);
    await registry.publish(staging, { version, parent: null, config: {}, training: null, eval: null });
  }
  await registry.setCurrent('v0002', { reason: 'base of the round', actor: 'test' });
  // During the round an admin rolls back; the round then publishes against its base v0002.
  await registry.setCurrent('v0001', { reason: 'rollback', actor: 'admin' });
  await assert.rejects(
    registry.setCurrent('v0003', { reason: 'gate passed', actor: 'chexpo loop' }, { expectFrom: 'v0002' }),
    { code: 'REGISTRY_CURRENT_MOVED' },
  );
  assert.equal(await registry.current(), 'v0001');
  await registry.setCurrent(
    'v0003',
    { reason: 'gate passed', actor: 'chexpo loop' },
    { expectFrom: 'v0001' },
  );
  assert.equal(await registry.current(), 'v0003');
});
