import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Registry } from '../../src/registry/index.ts';
import { fields, makeStaging, tempRoot } from './helpers.ts';

const run = promisify(execFile);
const VERSIONS = ['v0001', 'v0002', 'v0003'];

/** The pointer names a published version, and history is one unbroken chain ending at it. */
async function assertConsistent(registry: Registry, expectedMoves: number): Promise<void> {
  const current = await registry.current();
  assert.ok(current !== null && VERSIONS.includes(current), `CURRENT is a published version: ${current}`);
  assert.equal((await registry.verify(current)).ok, true);
  const history = await registry.history();
  assert.equal(history.length, expectedMoves, 'every move recorded, no torn lines');
  for (let i = 1; i < history.length; i++) {
    assert.equal(history[i]!.from, history[i - 1]!.to, `history line ${i} continues the chain`);
  }
  assert.equal(history.at(-1)!.to, current);
  const leftovers = (await readdir(registry.dir)).filter((e) => e.startsWith('.'));
  assert.deepEqual(leftovers, [], 'no lock or temp file left');
}

test('concurrent setCurrent calls from many instances leave a valid pointer and a chained history', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const setup = await Registry.open(root, 'm');
  for (const id of VERSIONS) await setup.publish(await makeStaging(root, id), fields({ version: id }));
  const instances = await Promise.all(Array.from({ length: 4 }, () => Registry.open(root, 'm')));
  await Promise.all(
    instances.flatMap((registry, i) =>
      Array.from({ length: 5 }, (_, k) =>
        registry.setCurrent(VERSIONS[(i + k) % VERSIONS.length]!, { reason: `r${i}.${k}`, actor: `i${i}` }),
      ),
    ),
  );
  await assertConsistent(setup, 20);
});

test('concurrent setCurrent from child processes and this one stay consistent', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  for (const id of VERSIONS) await registry.publish(await makeStaging(root, id), fields({ version: id }));
  const child = join(import.meta.dirname, 'move-pointer-child.ts');
  const children = [0, 1].map(() =>
    run(process.execPath, ['--import', 'tsx', child, root, 'm', '15', 'v0001', 'v0002', 'v0003']),
  );
  for (let k = 0; k < 15; k++)
    await registry.setCurrent(VERSIONS[k % 3]!, { reason: 'parent', actor: 'parent' });
  await Promise.all(children);
  await assertConsistent(registry, 45);
  const text = await readFile(join(registry.dir, 'CURRENT'), 'utf8');
  assert.match(text, /^v000[123]\n$/);
});

test('concurrent publishes of one explicit id: exactly one wins', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const instances = await Promise.all(Array.from({ length: 4 }, () => Registry.open(root, 'm')));
  const stagings = await Promise.all(instances.map((_, i) => makeStaging(root, `s${i}`)));
  const results = await Promise.allSettled(
    instances.map((registry, i) => registry.publish(stagings[i]!, fields({ version: 'v0001' }))),
  );
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1);
  for (const r of results) {
    if (r.status === 'rejected')
      assert.equal((r.reason as { code?: string }).code, 'REGISTRY_VERSION_EXISTS');
  }
  assert.equal((await instances[0]!.verify('v0001')).ok, true);
  assert.deepEqual(
    (await readdir(instances[0]!.dir)).filter((e) => e.startsWith('.')),
    [],
  );
});
