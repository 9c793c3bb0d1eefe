/**
 * One CheXPO round end to end on a small phantom data set with the bundled model: mining, pool and
 * expansion in a real LanceDB store, pairs, DPO, calibration refit, paired evaluation, gate, publish.
 * The gate's thresholds are set so each test knows the outcome it checks (the gate's statistics
 * have their own tests); everything else runs for real.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quietly } from '../../scripts/demo/harness.ts';
import { loopExport } from '../../src/cli/loop-export.ts';
import type { RunRecordDoc } from '../../src/loop/record.ts';
import { lenientGate, ROUND, type RoundFixture, roundFixture, small } from './round-fixture.ts';

let f: RoundFixture;
before(async () => {
  f = await roundFixture();
});
after(() => f?.close());

test(
  'a round mines, pairs, trains, evaluates and publishes a promoted candidate as CURRENT',
  ROUND,
  async () => {
    const { record, runDir, candidateDir } = await f.run('run-a', { ...small, gate: lenientGate });
    assert.equal(record.status, 'promoted', JSON.stringify(record.error));
    assert.ok(record.candidate_version);
    assert.deepEqual(await f.current(), { current: record.candidate_version, versions: 2 });

    const c = record.counts;
    assert.ok(c.scored > 0 && c.scored <= 80);
    assert.ok(c.hard > 0 && c.hard <= c.scored);
    assert.ok(c.selected > 0 && c.pairs > 0);
    assert.equal(
      Object.values(c.pairs_by_kind).reduce((a, b) => a + (b ?? 0), 0),
      c.pairs,
    );
    assert.equal(await f.store.count('pairs'), c.pairs);
    assert.ok(
      (await f.store.count('pool')) > c.scored,
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

    const stored = await f.store.getRun('run-a');
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
    const out = join(f.root, 'trl');
    await quietly(() => loopExport(['--store', join(f.root, 'store'), '--data', f.dataDir, '--out', out]));
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
  const before = await f.current();
  const { record } = await f.run('run-b', { ...small, gate: { minPrimaryGain: 1 } });
  assert.equal(record.status, 'rejected');
  assert.equal(record.gate?.promote, false);
  assert.equal(record.candidate_version, null);
  assert.deepEqual(await f.current(), before);
  assert.equal((await f.store.getRun('run-b'))?.status, 'rejected');
});

test(
  'a run that fails mid-way is recorded as failed with its error, and publishes nothing',
  ROUND,
  async () => {
    const before = await f.current();
    await assert.rejects(f.run('run-c', { ...small, pairs: { kinds: [] } }), /no preference pairs/);
    const stored = await f.store.getRun('run-c');
    assert.equal(stored?.status, 'failed');
    const doc = JSON.parse(stored!.record) as RunRecordDoc;
    assert.equal(doc.error?.code, 'LOOP_NO_PAIRS');
    assert.ok(doc.finished_at !== null);
    assert.deepEqual(await f.current(), before);
  },
);
