import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHEXPO_VERSION_FILES, Registry, RegistryError } from '../../src/registry/index.ts';
import { fields, makeStaging, tempRoot, who } from './helpers.ts';

function hasCode(code: string) {
  return (thrown: unknown) => thrown instanceof RegistryError && thrown.code === code;
}

test('publish → verify ok → setCurrent → current, with the manifest describing every stored byte', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'chexpo-tiny', {
    requiredFiles: CHEXPO_VERSION_FILES,
    now: () => new Date('2025-03-14T09:30:12.345Z'),
  });
  const staging = await makeStaging(root, 'a');
  const manifest = await registry.publish(staging, fields());

  assert.match(manifest.version, /^v20250314-093012-[0-9a-f]{8}$/);
  assert.equal(manifest.parent, null);
  assert.equal(manifest.created_at, '2025-03-14T09:30:12.345Z');
  assert.deepEqual(
    manifest.files.map((f) => f.path),
    [...CHEXPO_VERSION_FILES].sort(),
  );
  const weights = manifest.files.find((f) => f.path === 'weights.safetensors')!;
  assert.equal(weights.bytes, 4096);
  const { createHash } = await import('node:crypto');
  const stored = await readFile(registry.filePath(manifest.version, 'weights.safetensors'));
  assert.equal(weights.sha256, createHash('sha256').update(stored).digest('hex'));
  assert.deepEqual(await registry.get(manifest.version), manifest);
  assert.ok((await stat(staging)).isDirectory(), 'copy mode leaves staging in place');
  assert.deepEqual(
    (await readdir(registry.dir)).filter((e) => e.startsWith('.tmp')),
    [],
    'no temp directory left behind',
  );

  const verified = await registry.verify(manifest.version);
  assert.deepEqual({ ok: verified.ok, problems: verified.problems }, { ok: true, problems: [] });

  assert.equal(await registry.current(), null);
  const entry = await registry.setCurrent(manifest.version, { reason: 'first release', actor: 'ci' });
  assert.equal(await registry.current(), manifest.version);
  assert.equal(await readFile(join(registry.dir, 'CURRENT'), 'utf8'), `${manifest.version}\n`);
  assert.deepEqual(
    { from: entry.from, to: entry.to, action: entry.action, reason: entry.reason, actor: entry.actor },
    { from: null, to: manifest.version, action: 'set', reason: 'first release', actor: 'ci' },
  );
  assert.equal((await registry.currentManifest()).version, manifest.version);

  const child = await registry.publish(await makeStaging(root, 'b'), fields());
  assert.equal(child.parent, manifest.version, 'parent defaults to the current version');
  assert.deepEqual(
    (await registry.list()).map((e) => e.version),
    [manifest.version, child.version].sort(),
  );
  registry.close();
});

test('an existing or once-published version id is refused, and the first version stays intact', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  const first = await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  const before = await registry.verify('v0001');
  const staging = await makeStaging(root, 'b');
  await assert.rejects(
    registry.publish(staging, fields({ version: 'v0001' })),
    hasCode('REGISTRY_VERSION_EXISTS'),
  );
  assert.deepEqual(await registry.get('v0001'), first);
  assert.equal((await registry.verify('v0001')).ok, before.ok);
  assert.equal(await readFile(registry.filePath('v0001', 'encoder.onnx'), 'utf8'), 'encoder graph a');

  await rm(registry.versionDir('v0001'), { recursive: true });
  await assert.rejects(
    registry.publish(staging, fields({ version: 'v0001' })),
    hasCode('REGISTRY_VERSION_EXISTS'),
    'a deleted version id is still never reused',
  );
  await assert.rejects(
    registry.publish(staging, fields({ version: '../evil' })),
    hasCode('REGISTRY_INVALID_ID'),
  );
  await assert.rejects(Registry.open(root, '../x'), hasCode('REGISTRY_INVALID_ID'));
});

test('a tampered file fails verification with a sha256 mismatch and setCurrent refuses it', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  const good = await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await registry.setCurrent(good.version, who);
  const bad = await registry.publish(await makeStaging(root, 'b'), fields({ version: 'v0002' }));

  const weightsPath = registry.filePath(bad.version, 'weights.safetensors');
  const bytes = await readFile(weightsPath);
  bytes[100] ^= 0x01; // one bit, same size
  await writeFile(weightsPath, bytes);

  const result = await registry.verify(bad.version);
  assert.equal(result.ok, false);
  assert.equal(result.problems.length, 1);
  const problem = result.problems[0]!;
  assert.equal(problem.kind, 'sha256_mismatch');
  assert.equal(problem.kind === 'sha256_mismatch' && problem.path, 'weights.safetensors');

  await assert.rejects(registry.setCurrent(bad.version, who), (thrown: unknown) => {
    assert.ok(thrown instanceof RegistryError);
    assert.equal(thrown.code, 'REGISTRY_VERIFY_FAILED');
    assert.match(thrown.message, /weights\.safetensors: sha256/);
    assert.equal((thrown.details?.problems as unknown[] | undefined)?.length, 1);
    return true;
  });
  assert.equal(await registry.current(), good.version, 'CURRENT unchanged');
  assert.equal((await registry.history()).length, 1, 'the refused move is not in history');
});

test('a missing file, a truncated file, or a broken manifest are refused', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  const a = await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await registry.setCurrent(a.version, who);

  await registry.publish(await makeStaging(root, 'b'), fields({ version: 'v0002' }));
  await rm(registry.filePath('v0002', 'prefill.onnx'));
  assert.deepEqual((await registry.verify('v0002')).problems, [
    { kind: 'file_missing', path: 'prefill.onnx' },
  ]);
  await assert.rejects(registry.setCurrent('v0002', who), hasCode('REGISTRY_VERIFY_FAILED'));

  await registry.publish(await makeStaging(root, 'c'), fields({ version: 'v0003' }));
  await writeFile(registry.filePath('v0003', 'tokenizer.json'), '{');
  assert.equal((await registry.verify('v0003')).problems[0]!.kind, 'size_mismatch');

  await registry.publish(await makeStaging(root, 'd'), fields({ version: 'v0004' }));
  await writeFile(join(registry.versionDir('v0004'), 'manifest.json'), '{"format_version":1');
  assert.equal((await registry.verify('v0004')).problems[0]!.kind, 'manifest_invalid');
  await assert.rejects(registry.get('v0004'), hasCode('REGISTRY_MANIFEST_INVALID'));
  await assert.rejects(registry.setCurrent('v0004', who), hasCode('REGISTRY_VERIFY_FAILED'));
  const listed = await registry.list();
  assert.equal(listed.find((e) => e.version === 'v0004')?.manifest, null);

  await assert.rejects(registry.setCurrent('v0009', who), hasCode('REGISTRY_VERSION_NOT_FOUND'));
  assert.equal(await registry.current(), 'v0001');
});

test('a manifest pointing outside its directory is invalid, and extra files are only warnings', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  const m = await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await writeFile(join(registry.versionDir('v0001'), 'notes.txt'), 'operator notes');
  await writeFile(join(registry.versionDir('v0001'), '.nfs0001'), 'transient');
  const withExtra = await registry.verify('v0001');
  assert.equal(withExtra.ok, true);
  assert.deepEqual(withExtra.warnings, ['notes.txt']);

  const evil = { ...m, files: [...m.files, { path: '../../outside', sha256: 'a'.repeat(64), bytes: 1 }] };
  await writeFile(join(registry.versionDir('v0001'), 'manifest.json'), JSON.stringify(evil));
  const result = await registry.verify('v0001');
  assert.equal(result.ok, false);
  assert.match(
    result.problems[0]!.kind === 'manifest_invalid' ? result.problems[0]!.message : '',
    /safe path/,
  );
});

test('staging is checked before anything is written; move mode renames it into place', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm', { requiredFiles: ['encoder.onnx'] });
  const noEncoder = await makeStaging(root, 'x', { 'prefill.onnx': 'd' });
  await assert.rejects(registry.publish(noEncoder, fields()), hasCode('REGISTRY_STAGING_INVALID'));
  const withManifest = await makeStaging(root, 'y', { 'encoder.onnx': 'e', 'manifest.json': '{}' });
  await assert.rejects(registry.publish(withManifest, fields()), hasCode('REGISTRY_STAGING_INVALID'));
  await assert.rejects(registry.publish(join(root, 'absent'), fields()), hasCode('REGISTRY_STAGING_INVALID'));
  await assert.rejects(
    registry.publish(await makeStaging(root, 'z', { 'encoder.onnx': 'e' }), fields({ parent: 'v0404' })),
    hasCode('REGISTRY_VERSION_NOT_FOUND'),
  );
  await assert.rejects(
    registry.publish(
      noEncoder,
      fields({ training: { command: 'x', run_id: null, metrics: { loss: Number.NaN } } }),
    ),
    hasCode('REGISTRY_MANIFEST_INVALID'),
  );
  assert.deepEqual(await registry.list(), []);

  const movable = await makeStaging(root, 'move', { 'encoder.onnx': 'e', 'sub/extra.bin': 'x' });
  const moved = await registry.publish(movable, fields(), { mode: 'move' });
  await assert.rejects(stat(movable), /ENOENT/);
  assert.deepEqual(
    moved.files.map((f) => f.path),
    ['encoder.onnx', 'sub/extra.bin'],
  );
  assert.equal((await registry.verify(moved.version)).ok, true);

  const again = await makeStaging(root, 'again', { 'encoder.onnx': 'e2' });
  await assert.rejects(
    registry.publish(again, fields({ version: moved.version }), { mode: 'move' }),
    hasCode('REGISTRY_VERSION_EXISTS'),
  );
  assert.equal(
    await readFile(join(again, 'encoder.onnx'), 'utf8'),
    'e2',
    'a refused move leaves staging alone',
  );
});

test('a closed registry refuses calls', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  registry.close();
  registry.close();
  await assert.rejects(registry.list(), hasCode('REGISTRY_CLOSED'));
  assert.throws(() => registry.watch(() => {}), hasCode('REGISTRY_CLOSED'));
});

test('importVersion copies a verified version with its manifest into another root, and refuses a tampered one', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const bundled = await Registry.open(join(root, 'bundled'), 'chexpo-tiny');
  const shared = await Registry.open(join(root, 'shared'), 'chexpo-tiny');
  const release = await bundled.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  const child = await bundled.publish(
    await makeStaging(root, 'b'),
    fields({ version: 'v0002', parent: 'v0001' }),
  );

  const imported = await shared.importVersion(bundled.versionDir('v0001'));
  assert.deepEqual(imported, release);
  assert.deepEqual(await shared.get('v0001'), release, 'manifest kept byte for byte in meaning');
  await shared.setCurrent('v0001', who);
  await assert.rejects(shared.importVersion(bundled.versionDir('v0001')), hasCode('REGISTRY_VERSION_EXISTS'));

  await writeFile(bundled.filePath('v0002', 'model-card.md'), '# chexpo-tiny c\n');
  await assert.rejects(shared.importVersion(bundled.versionDir('v0002')), hasCode('REGISTRY_VERIFY_FAILED'));
  assert.deepEqual(
    (await shared.list()).map((e) => e.version),
    ['v0001'],
  );
  await writeFile(bundled.filePath('v0002', 'model-card.md'), '# chexpo-tiny b\n');
  assert.deepEqual(await shared.importVersion(bundled.versionDir('v0002')), child);
  await assert.rejects(
    Registry.open(join(root, 'shared'), 'other').then((r) => r.importVersion(bundled.versionDir('v0001'))),
    hasCode('REGISTRY_VERIFY_FAILED'),
    'a version of another model',
  );
});
