import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type HistoryEntry, previousFromHistory } from '../../src/registry/history.ts';
import { Registry, RegistryError } from '../../src/registry/index.ts';
import { fields, makeStaging, tempRoot, who } from './helpers.ts';

function hasCode(code: string) {
  return (thrown: unknown) => thrown instanceof RegistryError && thrown.code === code;
}

async function publishMany(registry: Registry, root: string, ids: string[]): Promise<void> {
  for (const id of ids) await registry.publish(await makeStaging(root, id), fields({ version: id }));
}

test('rollback returns to the previous version, and history records both moves', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  await publishMany(registry, root, ['v0001', 'v0002', 'v0003']);
  await assert.rejects(registry.rollback(who), hasCode('REGISTRY_NO_CURRENT'));

  await registry.setCurrent('v0001', { reason: 'release', actor: 'ci' });
  await registry.setCurrent('v0002', { reason: 'promote', actor: 'loop' });
  const back = await registry.rollback({ reason: 'hallucinations up', actor: 'admin' });
  assert.equal(await registry.current(), 'v0001');
  assert.deepEqual(
    (await registry.history()).map((e) => [e.action, e.from, e.to, e.actor, e.reason]),
    [
      ['set', null, 'v0001', 'ci', 'release'],
      ['set', 'v0001', 'v0002', 'loop', 'promote'],
      ['rollback', 'v0002', 'v0001', 'admin', 'hallucinations up'],
    ],
  );
  assert.equal(back.to, 'v0001');
  // v0001's parent is null and nothing is below it on the stack.
  await assert.rejects(registry.rollback(who), hasCode('REGISTRY_NO_PREVIOUS'));
  assert.equal(await registry.current(), 'v0001');
});

test('repeated rollbacks walk back like a stack instead of toggling', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  await publishMany(registry, root, ['v0001', 'v0002', 'v0003']);
  for (const id of ['v0001', 'v0002', 'v0003']) await registry.setCurrent(id, who);
  assert.equal(await registry.rollbackTarget(), 'v0002');
  await registry.rollback(who);
  assert.equal(await registry.current(), 'v0002');
  await registry.rollback(who);
  assert.equal(await registry.current(), 'v0001');
  await registry.setCurrent('v0003', who);
  await registry.rollback(who);
  assert.equal(await registry.current(), 'v0001');
});

test('without history, rollback falls back to the current version’s parent, and refuses a tampered target', async (t) => {
  const { root, cleanup } = await tempRoot();
  t.after(cleanup);
  const registry = await Registry.open(root, 'm');
  await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001', parent: null }));
  await registry.publish(await makeStaging(root, 'b'), fields({ version: 'v0002', parent: 'v0001' }));
  await registry.setCurrent('v0002', who);
  assert.equal(await registry.rollbackTarget(), 'v0001');

  const { writeFile } = await import('node:fs/promises');
  await writeFile(registry.filePath('v0001', 'encoder.onnx'), 'encoder graph Z');
  await assert.rejects(registry.rollback(who), hasCode('REGISTRY_VERIFY_FAILED'));
  assert.equal(await registry.current(), 'v0002');
  await writeFile(registry.filePath('v0001', 'encoder.onnx'), 'encoder graph a');
  await registry.rollback(who);
  assert.equal(await registry.current(), 'v0001');
});

test('previousFromHistory: stack replay, repeated sets, hand-edited CURRENT', () => {
  const entry = (action: 'set' | 'rollback', from: string | null, to: string): HistoryEntry => ({
    at: '2025-01-01T00:00:00.000Z',
    action,
    from,
    to,
    reason: 'r',
    actor: 'a',
    host: 'h',
    pid: 1,
  });
  const chain = [entry('set', null, 'v1'), entry('set', 'v1', 'v2'), entry('set', 'v2', 'v3')];
  assert.equal(previousFromHistory(chain, 'v3'), 'v2');
  assert.equal(previousFromHistory([...chain, entry('rollback', 'v3', 'v2')], 'v2'), 'v1');
  assert.equal(previousFromHistory([entry('set', null, 'v1'), entry('set', 'v1', 'v1')], 'v1'), null);
  assert.equal(previousFromHistory([...chain, entry('set', 'v3', 'v1')], 'v1'), 'v3');
  assert.equal(previousFromHistory(chain, 'v9'), 'v3', 'a hand-edited CURRENT sits on top of the stack');
  assert.equal(previousFromHistory([], 'v1'), null);
});
