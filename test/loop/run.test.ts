/**
 * One CheXPO round end to end on a small phantom data set with the bundled model: mining, pool and
 * expansion in a real LanceDB store, pairs, DPO, calibration refit, paired evaluation, gate, publish.
 * The gate's thresholds are set so each test knows the outcome it checks (the gate's statistics
 * have their own tests); everything else runs for real.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quietly, synthPool } from '../../scripts/demo/harness.ts';
import { loopExport } from '../../src/cli/loop-export.ts';
import { compareModels } from '../../src/eval/index.ts';
import { resolveLoopConfig } from '../../src/loop/config.ts';
import { predictVersion, testSubset } from '../../src/loop/evaluate-candidate.ts';
import type { RunRecordDoc } from '../../src/loop/record.ts';
import { runLoop } from '../../src/loop/run.ts';
import { BUNDLED_MODELS_ROOT, CHEXPO_VERSION_FILES, Registry } from '../../src/registry/index.ts';
import { LanceStore } from '../../src/store/index.ts';

const NAME = 'chexpo-tiny';
let root: string;
let dataDir: string;
let registryRoot: string;
let store: LanceStore;

const lenientGate = {
  minPrimaryGain: -1,
  safetyMargins: { hallucination: 1, omission: 1, ece: 1, perFindingAccuracy: 1, adversarialYesRatio: 1 },
};
const small = {
  threads: 1,
  mining: { limit: 80 },
  expansion: { k: 4 },
  balance: { budgetFraction: 0.5 },
  dpo: { epochs: 1, batchSize: 8 },
  calibration: { limit: 40 },
  eval: { limit: 40, resamples: 50 },
};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chexpo-loop-'));
  dataDir = join(root, 'data');
  await synthPool(dataDir);
  registryRoot = join(root, 'registry');
  const registry = await Registry.open(registryRoot, NAME, { requiredFiles: CHEXPO_VERSION_FILES });
  await registry.importVersion(join(BUNDLED_MODELS_ROOT, NAME, 'v0001'));
  await registry.setCurrent('v0001', { reason: 'test', actor: 'test' });
  registry.close();
  store = await LanceStore.open({ uri: join(root, 'store'), embeddingDim: 128 });
});

after(async () => {
  await store?.close();
  await rm(root, { recursive: true, force: true });
});

async function current(): Promise<{ current: string | null; versions: number }> {
  const registry = await Registry.open(registryRoot, NAME, { requiredFiles: CHEXPO_VERSION_FILES });
  try {
    return { current: await registry.current(), versions: (await registry.list()).length };
  } finally {
    registry.close();
  }
}

function run(
  id: string,
  partial: object,
  extra: { registryRoot?: string; base?: string; registerRejected?: boolean } = {},
) {
  return runLoop({
    registryRoot: extra.registryRoot ?? registryRoot,
    ...(extra.base ? { base: extra.base } : {}),
    ...(extra.registerRejected ? { registerRejected: true } : {}),
    name: NAME,
    store,
    dataDir,
    runId: id,
    trigger: 'manual',
    config: resolveLoopConfig(partial),
    workDir: join(root, 'runs'),
    publish: true,
    log: () => {},
  });
}

/** A real round (DPO, evaluation) takes minutes on a loaded 2-core machine. */
const ROUND = { timeout: 10 * 60_000 };

test(
  'a round mines, pairs, trains, evaluates and publishes a promoted candidate as CURRENT',
  ROUND,
  async () => {
    const { record, runDir, candidateDir } = await run('run-a', { ...small, gate: lenientGate });
    assert.equal(record.status, 'promoted', JSON.stringify(record.error));
    assert.ok(record.candidate_version);
    assert.deepEqual(await current(), { current: record.candidate_version, versions: 2 });

    const c = record.counts;
    assert.ok(c.scored > 0 && c.scored <= 80);
    assert.ok(c.hard > 0 && c.hard <= c.scored);
    assert.ok(c.selected > 0 && c.pairs > 0);
    assert.equal(
      Object.values(c.pairs_by_kind).reduce((a, b) => a + (b ?? 0), 0),
      c.pairs,
    );
    assert.equal(await store.count('pairs'), c.pairs);
    assert.ok(
      (await store.count('pool')) > c.scored,
      'the whole train split is indexed, not only the mined subset',
    );
    assert.ok(record.dpo && record.dpo.steps > 0 && Number.isFinite(record.dpo.final_loss));
    assert.ok(record.eval && Number.isFinite(record.eval.candidate) && Number.isFinite(record.eval.current));
    assert.equal(record.gate?.promote, true);
    assert.ok(
      candidateDir &&
        existsSync(join(candidateDir, 'calibrator.json')) &&
        existsSync(join(candidateDir, 'ood.json')),
    );
    for (const stage of ['mining', 'pool', 'expansion', 'pairs', 'dpo', 'calibration', 'evaluation'])
      assert.ok(record.durations[stage] >= 0, `duration of ${stage}`);

    const stored = await store.getRun('run-a');
    assert.equal(stored?.status, 'promoted');
    const doc = JSON.parse(stored!.record) as RunRecordDoc;
    assert.equal(doc.candidate_version, record.candidate_version);
    const onDisk = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as RunRecordDoc;
    assert.equal(onDisk.status, 'promoted');
    for (const file of ['confidence-curve.png', 'confidence-curve.svg', 'gate.png', 'gate.svg', 'gate.json'])
      assert.ok(existsSync(join(runDir, file)), file);
    assert.match(await readFile(join(runDir, 'gate.svg'), 'utf8'), /candidate − current/);
    assert.match(await readFile(join(runDir, 'comparison.txt'), 'utf8'), /primary/);

    // The round's pairs export as a TRL preference dataset, one row per stored pair, images on disk.
    const out = join(root, 'trl');
    await quietly(() => loopExport(['--store', join(root, 'store'), '--data', dataDir, '--out', out]));
    const rows = (await readFile(join(out, 'train.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, c.pairs);
    for (const r of rows) {
      assert.ok(r.prompt && r.chosen && r.rejected && r.images.length === 1, JSON.stringify(r).slice(0, 200));
      assert.ok(existsSync(join(out, r.images[0])));
    }
  },
);

test('a candidate the gate refuses is recorded as rejected and never published', ROUND, async () => {
  const before = await current();
  const { record } = await run('run-b', { ...small, gate: { minPrimaryGain: 1 } });
  assert.equal(record.status, 'rejected');
  assert.equal(record.gate?.promote, false);
  assert.equal(record.candidate_version, null);
  assert.deepEqual(await current(), before);
  assert.equal((await store.getRun('run-b'))?.status, 'rejected');
});

test(
  'a run that fails mid-way is recorded as failed with its error, and publishes nothing',
  ROUND,
  async () => {
    const before = await current();
    await assert.rejects(run('run-c', { ...small, pairs: { kinds: [] } }), /no preference pairs/);
    const stored = await store.getRun('run-c');
    assert.equal(stored?.status, 'failed');
    const doc = JSON.parse(stored!.record) as RunRecordDoc;
    assert.equal(doc.error?.code, 'LOOP_NO_PAIRS');
    assert.ok(doc.finished_at !== null);
    assert.deepEqual(await current(), before);
  },
);

test(
  'a round given a base trains from that version, gates against CURRENT and publishes a child of the base',
  ROUND,
  async () => {
    // Its own registry: v0001 serves, v0002 is registered but not CURRENT.
    const otherRoot = join(root, 'registry-base');
    const registry = await Registry.open(otherRoot, NAME, { requiredFiles: CHEXPO_VERSION_FILES });
    await registry.importVersion(join(BUNDLED_MODELS_ROOT, NAME, 'v0001'));
    await registry.importVersion(join(BUNDLED_MODELS_ROOT, NAME, 'v0002'));
    await registry.setCurrent('v0001', { reason: 'test', actor: 'test' });
    try {
      await assert.rejects(
        run('run-e', small, { registryRoot: otherRoot, base: 'v0099' }),
        (e: { code?: string }) => e.code === 'LOOP_UNKNOWN_BASE',
      );
      const { record } = await run(
        'run-d',
        { ...small, gate: lenientGate },
        { registryRoot: otherRoot, base: 'v0002' },
      );
      assert.equal(record.status, 'promoted', JSON.stringify(record.error));
      assert.equal(record.base_version, 'v0002');
      assert.equal(record.served_version, 'v0001');
      assert.equal(await registry.current(), record.candidate_version);
      assert.equal((await registry.get(record.candidate_version!)).parent, 'v0002');

      // The gate's baseline is what served (v0001), not the base: its primary on the gate's subset.
      const { data, samples } = await testSubset(dataDir, small.eval.limit, 0);
      const predict = (v: string) => predictVersion(registry.versionDir(v), dataDir, data, samples, 1);
      const primaryOf = async (v: string) => {
        const p = await predict(v);
        return compareModels(samples, p, p, { cases: data.cases, resamples: 10 }).metrics.primary.current;
      };
      const [served, base] = [await primaryOf('v0001'), await primaryOf('v0002')];
      assert.notEqual(served, base, 'the two versions must score apart for this check to mean anything');
      assert.ok(Math.abs(record.eval!.current - served) < 1e-9, `${record.eval!.current} vs ${served}`);

      // A refused round can be registered (CURRENT untouched) and be the next round's base.
      const serving = await registry.current();
      const refused = await run(
        'run-f',
        { ...small, gate: { minPrimaryGain: 1 } },
        { registryRoot: otherRoot, registerRejected: true },
      );
      assert.equal(refused.record.status, 'rejected');
      assert.ok(refused.record.candidate_version, 'the refused candidate is registered');
      assert.equal(await registry.current(), serving, 'CURRENT does not move');
      const manifest = await registry.get(refused.record.candidate_version!);
      assert.equal(manifest.parent, serving);
      assert.match(manifest.training?.command ?? '', /refused by the gate/);
      const next = await run(
        'run-g',
        { ...small, gate: lenientGate },
        { registryRoot: otherRoot, base: refused.record.candidate_version! },
      );
      assert.equal(next.record.status, 'promoted');
      assert.equal(
        (await registry.get(next.record.candidate_version!)).parent,
        refused.record.candidate_version,
      );
    } finally {
      registry.close();
    }
  },
);
