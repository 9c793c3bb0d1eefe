import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUNDLED_MODELS_ROOT, Registry } from '../../src/registry/index.ts';
import { seedWritableRegistry } from '../../src/server/trainer/index.ts';

test('the writable registry is seeded from the bundled release once, then kept as it is', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-seed-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bundled = await Registry.open(BUNDLED_MODELS_ROOT, 'chexpo-tiny');
  const bundledCurrent = await bundled.current();
  bundled.close();
  assert.ok(bundledCurrent);

  const first = await seedWritableRegistry({ from: BUNDLED_MODELS_ROOT, to: dir, name: 'chexpo-tiny' });
  assert.equal(first.outcome, 'seeded');
  assert.equal(first.current, bundledCurrent);
  assert.ok(first.imported.includes(bundledCurrent));

  const target = await Registry.open(dir, 'chexpo-tiny');
  t.after(() => target.close());
  assert.equal(await target.current(), bundledCurrent);
  assert.equal((await target.verify(bundledCurrent)).ok, true);

  const second = await seedWritableRegistry({ from: BUNDLED_MODELS_ROOT, to: dir, name: 'chexpo-tiny' });
  assert.deepEqual(second, { outcome: 'kept', current: bundledCurrent, imported: [] });
  assert.equal((await target.history()).length, 1, 'a kept registry gets no new pointer move');
});
