/**
 * deploy/k8s/base/seed-registry.ts (the serving pods' init container): seeds an empty shared registry from
 * the bundled one, leaves a registry with a CURRENT alone, and the Deployment runs it from the
 * ConfigMap kustomize generates.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { seedRegistry } from '../../deploy/k8s/base/seed-registry.ts';
import { CHEXPO_VERSION_FILES, Registry } from '../../src/registry/index.ts';
import { fields, makeStaging, tempRoot, who } from '../registry/helpers.ts';
import { K8S_DIR } from './k8s-objects.ts';

const APP_DIR = join(import.meta.dirname, '..', '..');
const NAME = 'chexpo-tiny';

test('seeds an empty registry from the bundled CURRENT, then leaves it alone', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const bundled = await Registry.open(join(root, 'image'), NAME, { requiredFiles: CHEXPO_VERSION_FILES });
  await bundled.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await bundled.setCurrent('v0001', who);
  const options = { appDir: APP_DIR, from: join(root, 'image'), to: join(root, 'shared'), name: NAME };

  assert.deepEqual(await seedRegistry(options), { outcome: 'seeded', current: 'v0001', imported: ['v0001'] });
  const shared = await Registry.open(join(root, 'shared'), NAME, { requiredFiles: CHEXPO_VERSION_FILES });
  t.after(() => shared.close());
  assert.equal(await shared.current(), 'v0001');
  assert.equal((await shared.verify('v0001')).ok, true);

  // The trainer promotes a new version; a pod restart must not move CURRENT back.
  const promoted = await shared.publish(await makeStaging(root, 'b'), fields());
  await shared.setCurrent(promoted.version, who);
  assert.deepEqual(await seedRegistry(options), { outcome: 'kept', current: promoted.version, imported: [] });
  assert.equal(await shared.current(), promoted.version);
  assert.equal((await shared.history()).length, 2, 'one seed move, one promotion');
  bundled.close();
});

test('two init containers seeding at once end with one version and one CURRENT', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const bundled = await Registry.open(join(root, 'image'), NAME, { requiredFiles: CHEXPO_VERSION_FILES });
  await bundled.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await bundled.setCurrent('v0001', who);
  bundled.close();
  const options = { appDir: APP_DIR, from: join(root, 'image'), to: join(root, 'shared'), name: NAME };
  const results = await Promise.all([seedRegistry(options), seedRegistry(options)]);
  assert.deepEqual(
    results.map((r) => r.current),
    ['v0001', 'v0001'],
  );
  const shared = await Registry.open(join(root, 'shared'), NAME);
  t.after(() => shared.close());
  assert.deepEqual(
    (await shared.list()).map((e) => e.version),
    ['v0001'],
  );
  assert.equal(await shared.current(), 'v0001');
});

test('refuses to seed from a bundled registry without CURRENT', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const options = { appDir: APP_DIR, from: join(root, 'image'), to: join(root, 'shared'), name: NAME };
  await assert.rejects(seedRegistry(options), /no CURRENT version to seed from/);
});

test('the init container runs the script from the generated ConfigMap', async () => {
  const kustomization = parse(await readFile(join(K8S_DIR, 'base', 'kustomization.yaml'), 'utf8'));
  const generator = kustomization.configMapGenerator.find((g: { files: string[] }) =>
    g.files.includes('seed-registry.ts'),
  );
  const deployment = parse(await readFile(join(K8S_DIR, 'base', 'deployment.yaml'), 'utf8'));
  const pod = deployment.spec.template.spec;
  const volume = pod.volumes.find(
    (v: { configMap?: { name: string } }) => v.configMap?.name === generator.name,
  );
  const init = pod.initContainers.find((c: { name: string }) => c.name === 'seed-registry');
  const mount = init.volumeMounts.find((m: { name: string }) => m.name === volume.name);
  assert.ok(init.command.includes(`${mount.mountPath}/seed-registry.ts`));
  assert.deepEqual(init.command.slice(0, 3), ['node', '--import', 'tsx']);
  assert.ok(
    init.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/data/registry'),
    'mounts the shared registry',
  );
});
