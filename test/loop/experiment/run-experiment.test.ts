/**
 * `chexpo experiment` end to end on a tiny phantom set: the fairness rules the table rests on (the
 * same evaluation samples for every arm, continued SFT as many steps as a DPO arm, the full loop's
 * rounds sharing the budget), held-out preference accuracy for every DPO run, and a re-run that
 * reads every arm back from the work directory instead of training again.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { synthPool } from '../../../scripts/demo/harness.ts';
import { resolveLoopConfig } from '../../../src/loop/config.ts';
import { type ExperimentOptions, runExperiment } from '../../../src/loop/experiment/run-experiment.ts';
import { BUNDLED_MODELS_ROOT } from '../../../src/registry/index.ts';
import { ROUND, small } from '../round-fixture.ts';

let root: string;
let options: ExperimentOptions;
const lines: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chexpo-experiment-'));
  const dataDir = join(root, 'data');
  await synthPool(dataDir);
  options = {
    modelDir: join(BUNDLED_MODELS_ROOT, 'chexpo-tiny', 'v0001'),
    baseVersion: 'v0001',
    dataDir,
    workDir: join(root, 'work'),
    config: resolveLoopConfig({ ...small, balance: { budgetFraction: 0.5, maxPairs: 16 } }),
    arms: ['sft', 'sft_continued', 'chexpo', 'full_loop'],
    evalSplit: 'test',
    sft: { learningRate: 5e-4, answerWeight: 3, findingLossWeight: 2 },
    rounds: 2,
    heldOutSamples: 24,
    log: (line) => lines.push(line),
  };
});
after(() => rm(root, { recursive: true, force: true }));

test(
  'every arm is scored on the same samples under the same budget, and a re-run trains nothing',
  ROUND,
  async () => {
    const first = await runExperiment(options);
    assert.deepEqual(
      first.arms.map((a) => a.arm),
      ['sft', 'sft_continued', 'chexpo', 'full_loop'],
    );
    assert.equal(first.seed, 0);
    assert.ok(first.budget > 0 && first.budget <= 16, `budget ${first.budget}`);
    for (const a of first.arms) {
      assert.equal(a.comparison.n_samples, first.evalSamples, `${a.arm} scored on other samples`);
      assert.ok(Number.isFinite(a.permutedPrimary), `${a.arm} has no permuted-image control`);
    }
    const [sft, continued, chexpo, loop] = first.arms;
    assert.equal(sft.comparison.metrics.primary.diff, 0, 'SFT is compared with itself');
    assert.equal(sft.vsContinued, null);
    assert.equal(continued.vsContinued, null);
    assert.ok(chexpo.vsContinued && loop.vsContinued, 'DPO arms are compared with continued SFT too');

    assert.equal(chexpo.pairs, first.budget);
    assert.equal(continued.steps, chexpo.steps, 'continued SFT trains as many steps as a DPO arm');
    assert.ok(continued.tokens > 0);
    // The full loop splits the budget over its two rounds, each with its own DPO run.
    assert.equal(loop.dpo?.length, 2);
    assert.ok(loop.pairs <= first.budget + 1, `full loop ${loop.pairs} pairs, budget ${first.budget}`);
    for (const run of [...(chexpo.dpo ?? []), ...(loop.dpo ?? [])]) {
      assert.ok(run.heldout_pairs > 0, 'every DPO run is scored on held-out validation pairs');
      assert.ok(run.heldout_accuracy !== null && run.heldout_accuracy >= 0 && run.heldout_accuracy <= 1);
    }
    assert.ok(
      lines.some((l) => l.includes('[full_loop-r2 mining]')),
      'round 2 is mined by round 1’s model',
    );

    lines.length = 0;
    const again = await runExperiment(options);
    assert.ok(!lines.some((l) => /dpo step|full_loop-r2 mining/.test(l)), lines.join('\n'));
    assert.deepEqual(
      again.arms.map((a) => [a.arm, a.pairs, a.steps, a.comparison.metrics.primary.candidate]),
      first.arms.map((a) => [a.arm, a.pairs, a.steps, a.comparison.metrics.primary.candidate]),
    );
  },
);
