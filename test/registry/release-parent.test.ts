import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { release } from '../../src/cli/release.ts';
import { initWeights } from '../../src/model/vlm/weights.ts';
import { Registry } from '../../src/registry/index.ts';
import { type HeadFixture, headFixture } from '../support/head-model.ts';

let fx: HeadFixture;
before(async () => {
  fx = await headFixture(16, 5);
});
after(() => fx.remove());

test('release records the version it was trained from as the parent; without --parent, CURRENT', async () => {
  const root = join(fx.dataDir, '..', 'registry');
  const base = { data: fx.dataDir, registry: root, name: 'chexpo-tiny', controls: false, seed: 0 };
  const limits = { evalLimit: 20, calibrationLimit: 20, threads: 1 };
  const quiet = () => {};
  // A training run's layout: RUN/version beside RUN/metrics.json.
  const stage = async (name: string, seed: number) => {
    const dir = await fx.version(join(name, 'version'), fx.config, initWeights(fx.config, seed));
    const metrics = {
      command: 'chexpo train sft',
      steps: [],
      epochs: [{ epoch: 0, step: 0, valNll: 1.5 }],
      minutes: 0,
    };
    await writeFile(join(dir, '..', 'metrics.json'), JSON.stringify(metrics));
    return dir;
  };
  await release(
    { ...base, ...limits, model: await stage('a', 1), version: 'v0001', setCurrent: true },
    quiet,
  );
  await release(
    { ...base, ...limits, model: await stage('b', 2), version: 'v0002', setCurrent: false },
    quiet,
  );
  // Trained from v0002 while v0001 serves: the lineage must say v0002.
  const model = await stage('c', 3);
  await release({ ...base, ...limits, model, version: 'v0003', parent: 'v0002', setCurrent: false }, quiet);
  const registry = await Registry.open(root, 'chexpo-tiny');
  try {
    assert.equal((await registry.get('v0002')).parent, 'v0001', 'default: the CURRENT version');
    assert.equal((await registry.get('v0003')).parent, 'v0002');
  } finally {
    await registry.close();
  }
});

test('release without the training run record fails first, naming the missing file', async () => {
  const root = join(fx.dataDir, '..', 'registry-no-metrics');
  const model = await fx.version(join('bare', 'version'), fx.config, initWeights(fx.config, 4));
  const said: string[] = [];
  await assert.rejects(
    release(
      {
        model,
        data: fx.dataDir,
        registry: root,
        name: 'chexpo-tiny',
        controls: false,
        seed: 0,
        setCurrent: false,
      },
      (line) => said.push(line),
    ),
    (e: Error) => e.name === 'UsageError' && /bare\/metrics\.json not found/.test(e.message),
  );
  assert.deepEqual(said, [], 'nothing was calibrated or evaluated before the check');
});
