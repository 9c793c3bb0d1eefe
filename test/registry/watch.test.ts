import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type CurrentChange, type Manifest, Registry } from '../../src/registry/index.ts';
import { CurrentWatcher } from '../../src/registry/watch.ts';
import { until } from '../support/until.ts';
import { fields, makeStaging, tempRoot, who } from './helpers.ts';

const run = promisify(execFile);

/** Resolves when `changes` has `n` entries (polling a list the watcher appends to). */
async function waitFor(changes: CurrentChange[], n: number): Promise<void> {
  await until(() => changes.length >= n, `${n} CURRENT change(s)`, {
    everyMs: 5,
    state: () => JSON.stringify(changes),
  });
}

test('watch fires when a second instance (another process, as far as this one knows) moves CURRENT', async (t) => {
  const { root, cleanup } = await tempRoot();
  const serving = await Registry.open(root, 'm');
  const trainer = await Registry.open(root, 'm');
  t.after(async () => {
    serving.close();
    trainer.close();
    await cleanup();
  });
  await trainer.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await trainer.publish(await makeStaging(root, 'b'), fields({ version: 'v0002' }));
  await trainer.setCurrent('v0001', who);

  const changes: CurrentChange[] = [];
  const stop = serving.watch((change) => void changes.push(change), { pollMs: 20, since: 'v0001' });
  await trainer.setCurrent('v0002', who);
  await waitFor(changes, 1);
  assert.deepEqual(changes, [{ version: 'v0002', previous: 'v0001', source: 'poll' }]);

  await trainer.rollback(who);
  await waitFor(changes, 2);
  assert.deepEqual(changes[1], { version: 'v0001', previous: 'v0002', source: 'poll' });

  stop();
  await trainer.setCurrent('v0002', who);
  await sleep(100);
  assert.equal(changes.length, 2, 'a stopped watcher stays silent');
});

test('local moves and publishes are delivered at once, each change only once', async (t) => {
  const { root, cleanup } = await tempRoot();
  const registry = await Registry.open(root, 'm');
  t.after(async () => {
    registry.close();
    await cleanup();
  });
  const published: Manifest[] = [];
  registry.onPublish((m) => void published.push(m));
  await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await registry.publish(await makeStaging(root, 'b'), fields({ version: 'v0002' }));
  assert.deepEqual(
    published.map((m) => m.version),
    ['v0001', 'v0002'],
  );

  // A slow poller sees only local deliveries; a fast one races them and must still report each move once.
  const local: CurrentChange[] = [];
  const raced: CurrentChange[] = [];
  registry.watch((change) => void local.push(change), { pollMs: 60_000 });
  registry.watch((change) => void raced.push(change), { pollMs: 2 });
  await sleep(30); // the baseline (no CURRENT) is read without firing
  assert.deepEqual([local, raced], [[], []]);
  await registry.setCurrent('v0001', who);
  assert.deepEqual(local, [{ version: 'v0001', previous: null, source: 'local' }], 'delivered before return');
  await registry.setCurrent('v0002', who);
  assert.deepEqual(local[1], { version: 'v0002', previous: 'v0001', source: 'local' });
  await sleep(50);
  assert.deepEqual(
    raced.map((c) => [c.previous, c.version]),
    [
      [null, 'v0001'],
      ['v0001', 'v0002'],
    ],
  );
});

test('a garbled CURRENT goes to onError and does not fire; the watcher recovers', async (t) => {
  const { root, cleanup } = await tempRoot();
  const registry = await Registry.open(root, 'm');
  t.after(async () => {
    registry.close();
    await cleanup();
  });
  await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await registry.publish(await makeStaging(root, 'b'), fields({ version: 'v0002' }));
  await registry.setCurrent('v0001', who);
  const changes: CurrentChange[] = [];
  const errors: unknown[] = [];
  registry.watch((change) => void changes.push(change), {
    pollMs: 10,
    since: 'v0001',
    onError: (e) => errors.push(e),
  });
  await writeFile(join(registry.dir, 'CURRENT'), '../../etc/passwd\n');
  await until(() => errors.length > 0, 'the watcher to report the invalid CURRENT', { everyMs: 5 });
  assert.equal(changes.length, 0);
  assert.equal((errors[0] as { code?: string }).code, 'REGISTRY_CURRENT_INVALID');
  await writeFile(join(registry.dir, 'CURRENT'), 'v0002\n');
  await waitFor(changes, 1);
  assert.deepEqual(changes[0], { version: 'v0002', previous: 'v0001', source: 'poll' });
});

test('watch notices a move made by a real child process', async (t) => {
  const { root, cleanup } = await tempRoot();
  const registry = await Registry.open(root, 'm');
  t.after(async () => {
    registry.close();
    await cleanup();
  });
  await registry.publish(await makeStaging(root, 'a'), fields({ version: 'v0001' }));
  await registry.publish(await makeStaging(root, 'b'), fields({ version: 'v0002' }));
  await registry.setCurrent('v0001', who);
  const changes: CurrentChange[] = [];
  registry.watch((change) => void changes.push(change), { pollMs: 20, since: 'v0001' });
  const child = join(import.meta.dirname, 'move-pointer-child.ts');
  await run(process.execPath, ['--import', 'tsx', child, root, 'm', '1', 'v0002']);
  await waitFor(changes, 1);
  assert.deepEqual(changes[0], { version: 'v0002', previous: 'v0001', source: 'poll' });
  assert.match((await registry.history()).at(-1)!.actor, /^pid-\d+$/);
});

test('a poll whose read straddles a local move is discarded (no flip back to the old version)', async () => {
  let release: (value: string) => void = () => {};
  let reads = 0;
  const readCurrent = () => {
    reads++;
    return reads === 1 ? new Promise<string>((resolve) => (release = resolve)) : Promise.resolve('v0002');
  };
  const changes: CurrentChange[] = [];
  const watcher = new CurrentWatcher(readCurrent, (c) => void changes.push(c), { pollMs: 1, since: 'v0001' });
  await until(() => reads > 0, 'the first poll to start reading', { everyMs: 1 });
  watcher.notifyLocal('v0002');
  release('v0001'); // what CURRENT held when the poll started reading
  await sleep(20);
  watcher.stop();
  assert.deepEqual(changes, [{ version: 'v0002', previous: 'v0001', source: 'local' }]);
});
