/**
 * `chexpo loop run --base`: a round trains from a registered version that is not CURRENT, is gated
 * against what serves, and publishes a child of the base. An unknown base is a typed error.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compareModels, evaluate } from '../../src/eval/index.ts';
import { readSplit, runSplit, selectSamples } from '../../src/inference/offline/index.ts';
import { OPERATING_POINT_FILE, THRESHOLD_GRID } from '../../src/inference/operating-point.ts';
import { predictVersion, testSubset } from '../../src/loop/evaluate-candidate.ts';
import {
  lenientGate,
  ROUND,
  type RoundFixture,
  roundFixture,
  seededRegistry,
  small,
} from './round-fixture.ts';

let f: RoundFixture;
before(async () => {
  f = await roundFixture();
});
after(() => f?.close());

test(
  'a round given a base trains from that version, gates against CURRENT and publishes a child of the base',
  ROUND,
  async () => {
    // Its own registry: v0001 serves, v0002 is registered but not CURRENT.
    const otherRoot = join(f.root, 'registry-base');
    const registry = await seededRegistry(otherRoot, ['v0001', 'v0002'], 'v0001');
    try {
      await assert.rejects(
        f.run('run-e', small, { registryRoot: otherRoot, base: 'v0099' }),
        (e: { code?: string }) => e.code === 'LOOP_UNKNOWN_BASE',
      );
      // The operating point is fitted by default, within the served version's own validation limits.
      const { record } = await f.run(
        'run-d',
        { ...small, gate: lenientGate },
        { registryRoot: otherRoot, base: 'v0002' },
      );
      assert.equal(record.status, 'promoted', JSON.stringify(record.error));
      assert.equal(record.base_version, 'v0002');
      assert.equal(record.served_version, 'v0001');
      assert.equal(await registry.current(), record.candidate_version);
      assert.equal((await registry.get(record.candidate_version!)).parent, 'v0002');
      const published = JSON.parse(
        await readFile(join(registry.versionDir(record.candidate_version!), OPERATING_POINT_FILE), 'utf8'),
      );
      assert.ok(record.operating_point, 'the run record names the operating point');
      assert.equal(published.closed_yes_threshold, record.operating_point.closed_yes_threshold);
      assert.ok(THRESHOLD_GRID.includes(record.operating_point.closed_yes_threshold));
      // The limits are v0001's (what served) on the calibration subset of validation.
      const validation = await readSplit(f.dataDir, 'validation');
      const vSamples = selectSamples(validation.samples, small.calibration.limit, 0);
      const servedAnswers = await runSplit(registry.versionDir('v0001'), f.dataDir, 'validation', {
        limit: small.calibration.limit,
        seed: 0,
        threads: 1,
      });
      const m = evaluate(vSamples, servedAnswers, { cases: validation.cases, resamples: 0 }).metrics;
      assert.equal(
        record.operating_point.limits.maxAdversarialYes,
        m['pope.adversarial_yes_ratio']?.value ?? 0,
      );
      assert.equal(
        record.operating_point.limits.maxClosedHallucination,
        m['hallucination.closed']?.value ?? 0,
      );

      // The gate's baseline is what served (v0001), not the base: its primary on the gate's subset.
      const { data, samples } = await testSubset(f.dataDir, small.eval.limit, 0);
      const predict = (v: string) => predictVersion(registry.versionDir(v), f.dataDir, data, samples, 1);
      const primaryOf = async (v: string) => {
        const p = await predict(v);
        return compareModels(samples, p, p, { cases: data.cases, resamples: 10 }).metrics.primary.current;
      };
      const [served, base] = [await primaryOf('v0001'), await primaryOf('v0002')];
      assert.notEqual(served, base, 'the two versions must score apart for this check to mean anything');
      assert.ok(Math.abs(record.eval!.current - served) < 1e-9, `${record.eval!.current} vs ${served}`);
    } finally {
      registry.close();
    }
  },
);
