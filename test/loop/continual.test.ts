/**
 * Continual refinement wired end to end (small config): the server answers shifted traffic and
 * logs hard examples; a trainer child process runs `chexpo loop run` on the same registry and store;
 * the server hot-swaps to the promoted version while traffic keeps flowing, with no failed request.
 * The gate is lenient here so the round promotes; whether a round improves the model is the
 * experiment's and the demo's question, not this test's.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  backgroundTraffic,
  loopInChild,
  replay,
  seedRegistry,
  shiftedTraffic,
  startStack,
  synthPool,
  waitForVersion,
} from '../../scripts/demo/harness.ts';
import type { RunRecordDoc } from '../../src/loop/record.ts';
import { LanceStore } from '../../src/store/index.ts';
import { lenientGate } from './round-fixture.ts';

const root = await mkdtemp(join(tmpdir(), 'chexpo-continual-'));
after(() => rm(root, { recursive: true, force: true }));

// A whole round in a child process plus a hot swap: longer than the suite's 120 s per-test default.
test('served traffic → hard examples → loop in a child process → hot swap under load, nothing dropped', {
  timeout: 15 * 60_000,
}, async () => {
  const registryRoot = join(root, 'registry');
  const storeUri = join(root, 'store');
  const dataDir = join(root, 'pool');
  const base = await seedRegistry(registryRoot);
  await synthPool(dataDir);
  // Questions are balanced per split, which drops most of a tiny split's: 10 cases give ≥ 20 requests.
  const traffic = await shiftedTraffic(join(root, 'traffic'), 10, 77);
  assert.ok(traffic.length >= 20);

  const stack = await startStack(registryRoot, storeUri, 0);
  try {
    const first = await replay(stack.url, traffic, 4);
    assert.ok(
      first.every((a) => a.status === 200 && a.flagged && a.version === base),
      JSON.stringify(first.slice(0, 3)),
    );
    assert.deepEqual(await stack.logger.flush(), { pending: 0 });

    const configPath = join(root, 'loop.json');
    await writeFile(
      configPath,
      JSON.stringify({
        threads: 1,
        mining: { limit: 60 },
        expansion: { k: 4 },
        balance: { budgetFraction: 0.5 },
        dpo: { epochs: 1, batchSize: 8 },
        calibration: { limit: 24 },
        eval: { limit: 24, resamples: 50 },
        gate: lenientGate,
      }),
    );
    const load = backgroundTraffic(stack.url, traffic, 4);
    const lines: string[] = [];
    const code = await loopInChild({
      registryRoot,
      storeUri,
      dataDir,
      workDir: join(root, 'runs'),
      runId: 'continual-1',
      configPath,
      onLine: (l) => lines.push(l),
    });
    assert.equal(code, 0, lines.slice(-20).join('\n'));

    const store = await LanceStore.open({
      uri: storeUri,
      embeddingDim: 128,
      readConsistencyIntervalSeconds: 0,
    });
    try {
      const run = await store.getRun('continual-1');
      const record = JSON.parse(run!.record) as RunRecordDoc;
      assert.equal(record.status, 'promoted');
      assert.ok(record.counts.live_seeds >= first.length, 'the live hard examples seeded the round');
      await waitForVersion(stack.engine, record.candidate_version!, 120_000);
      await new Promise((r) => setTimeout(r, 3000)); // some background answers from the new version
      const during = await load.stop();
      assert.deepEqual(Object.keys(during.statuses), ['200'], JSON.stringify(during));
      assert.ok(
        during.versions.includes(base) && during.versions.includes(record.candidate_version!),
        JSON.stringify(during),
      );
      const after = await replay(stack.url, traffic.slice(0, 4), 2);
      assert.ok(after.every((a) => a.status === 200 && a.version === record.candidate_version));
      assert.ok((await store.count('hard_examples', "status = 'used'")) >= first.length);
    } finally {
      await store.close();
    }
  } finally {
    await stack.close();
  }
});
