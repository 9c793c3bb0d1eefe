import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withLock } from '../../src/registry/fs-atomic.ts';
import { parseManifest, Registry, RegistryError } from '../../src/registry/index.ts';
import { generateVersionId } from '../../src/registry/manifest.ts';
import { fields, makeStaging, tempRoot, who } from './helpers.ts';

function hasCode(code: string) {
  return (thrown: unknown) => thrown instanceof RegistryError && thrown.code === code;
}

test('generated version ids sort chronologically and differ within one second', () => {
  const files = [{ path: 'a', sha256: '0'.repeat(64), bytes: 1 }];
  const ids = [
    '2024-12-31T23:59:59.999Z',
    '2025-01-01T00:00:00.000Z',
    '2025-01-01T00:00:00.001Z',
    '2025-01-09T10:00:00.000Z',
    '2025-01-10T09:00:00.000Z',
  ].map((iso) => generateVersionId(new Date(iso), files));
  assert.equal(ids[0], `v20241231-235959-${ids[0]!.slice(-8)}`);
  assert.deepEqual(ids.slice(0, 2), [...ids.slice(0, 2)].sort());
  assert.deepEqual([ids[0], ids[3], ids[4]], [ids[0], ids[3], ids[4]].sort());
  assert.notEqual(ids[1], ids[2], 'same second, different instant');
  const otherFiles = [{ path: 'a', sha256: '1'.repeat(64), bytes: 1 }];
  assert.notEqual(generateVersionId(new Date('2025-01-01T00:00:00.000Z'), otherFiles), ids[1]);
});

test('parseManifest rejects what a tampered or future manifest could carry', () => {
  const good = {
    format_version: 1,
    name: 'm',
    version: 'v0001',
    created_at: '2025-01-01T00:00:00.000Z',
    parent: null,
    files: [{ path: 'encoder.onnx', sha256: 'a'.repeat(64), bytes: 3 }],
    config: {},
    data: null,
    training: null,
    eval: null,
  };
  assert.equal(parseManifest(JSON.stringify(good)).version, 'v0001');
  const bad: [string, unknown][] = [
    ['format_version', { ...good, format_version: 2 }],
    ['absolute path', { ...good, files: [{ ...good.files[0], path: '/etc/passwd' }] }],
    ['traversal', { ...good, files: [{ ...good.files[0], path: 'a/../../b' }] }],
    ['dotfile', { ...good, files: [{ ...good.files[0], path: '.hidden' }] }],
    ['duplicate', { ...good, files: [good.files[0], good.files[0]] }],
    ['upper-case hash', { ...good, files: [{ ...good.files[0], sha256: 'A'.repeat(64) }] }],
    ['negative size', { ...good, files: [{ ...good.files[0], bytes: -1 }] }],
    ['parent id', { ...good, parent: '../v1' }],
    ['config', { ...good, config: [] }],
  ];
  for (const [what, value] of bad) {
    assert.throws(() => parseManifest(JSON.stringify(value)), hasCode('REGISTRY_MANIFEST_INVALID'), what);
  }
  assert.throws(
    () => parseManifest(JSON.stringify(good), { name: 'm', version: 'v0002' }),
    /lives in m\/v0002/,
    'a manifest copied into another version directory',
  );
});

test('a crashed writer’s stale lock is broken; a live one times out with a coded error', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm', { lockTimeoutMs: 100, lockStaleMs: 5_000 });
  await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  const lock = join(registry.dir, '.lock');

  await writeFile(lock, '{"pid":1}');
  await assert.rejects(registry.setCurrent('v0001', who), hasCode('REGISTRY_LOCK_TIMEOUT'));
  assert.equal(await registry.current(), null);

  const old = new Date(Date.now() - 60_000);
  await utimes(lock, old, old);
  await registry.setCurrent('v0001', who);
  assert.equal(await registry.current(), 'v0001');
  assert.deepEqual(
    (await readdir(registry.dir)).filter((e) => e.startsWith('.')),
    [],
  );
});

test('a publish that crashed before its rename leaves only a temp entry that readers ignore', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  const crashed = join(registry.dir, '.tmp-publish-deadbeef');
  await mkdir(crashed);
  await writeFile(join(crashed, 'encoder.onnx'), 'half');
  await mkdir(join(registry.dir, 'not-a-version'));
  assert.deepEqual(
    (await registry.list()).map((e) => e.version),
    ['v0001'],
  );
});

test('a holder whose lock was broken and retaken by another writer does not delete the new lock', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-lock-'));
  const lockPath = join(dir, 'pointer.lock');
  try {
    await withLock(lockPath, { timeoutMs: 1000, staleMs: 30_000 }, async () => {
      // Another writer judged this lock stale, broke it and now holds the path.
      await writeFile(lockPath, '{"host":"other","pid":1}');
    });
    assert.equal(await readFile(lockPath, 'utf8'), '{"host":"other","pid":1}');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
