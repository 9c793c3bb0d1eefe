import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encoderSight } from '../../../src/loop/mining/encoder-sight.ts';
import type { VlmConfig } from '../../../src/model/vlm/config.ts';
import { loadVersion } from '../../../src/model/vlm/version.ts';
import { initWeights } from '../../../src/model/vlm/weights.ts';
import { type HeadFixture, headFixture } from '../../support/head-model.ts';

let fx: HeadFixture;

// 60 cases: about 8 validation cases, enough for both classes of the common findings.
before(async () => {
  fx = await headFixture(60, 4);
});

after(() => fx.remove());

async function version(name: string, c: VlmConfig, blind: boolean) {
  const weights = initWeights(c, 1);
  if (blind && c.findingHead) weights['enc.findings.weight'].fill(0);
  return loadVersion(await fx.version(name, c, weights));
}

test('a head that separates nothing leaves every measured finding unseen; unmeasured ones stay', async () => {
  const blind = await version('blind', fx.config, true);
  const sight = await encoderSight(blind, fx.dataDir, { minAuroc: 0.6, cases: 100 });
  const measured = sight.scores.filter((s) => !Number.isNaN(s.auroc)).map((s) => s.finding);
  assert.ok(measured.length > 0, 'some findings have both classes among the validation cases');
  assert.deepEqual([...sight.unseen].sort(), [...measured].sort());
  // Below the AUROC of a constant head (0.5), nothing is unseen.
  assert.equal((await encoderSight(blind, fx.dataDir, { minAuroc: 0.4, cases: 100 })).unseen.size, 0);
});

test('the check is off at 0, and for a model without a head', async () => {
  const blind = await version('blind-off', fx.config, true);
  assert.deepEqual(await encoderSight(blind, fx.dataDir, { minAuroc: 0, cases: 100 }), {
    unseen: new Set(),
    scores: [],
  });
  const { findingHead: _, ...noHead } = fx.config;
  const plain = await version('plain', noHead, false);
  const sight = await encoderSight(plain, fx.dataDir, { minAuroc: 0.9, cases: 100 });
  assert.equal(sight.unseen.size, 0);
  assert.equal(sight.scores.length, 0);
});
