import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Finding } from '../../../src/data/types.ts';
import { probeFindingHead } from '../../../src/inference/offline/finding-head.ts';
import { readJsonl } from '../../../src/model/train/dataset.ts';
import { initWeights } from '../../../src/model/vlm/weights.ts';
import { type HeadFixture, headFixture } from '../../support/head-model.ts';

let fx: HeadFixture;

before(async () => {
  fx = await headFixture(40, 2);
});

after(() => fx.remove());

test('the probe counts each finding’s labels from the cases, and a constant head scores AUROC 0.5', async () => {
  const weights = initWeights(fx.config, 1);
  weights['enc.findings.weight'].fill(0); // every case gets the same logits: all ties
  const scores = await probeFindingHead(
    await fx.version('constant', fx.config, weights),
    fx.dataDir,
    'train',
  );
  const rows = await readJsonl<{ findings?: Finding[] }>(join(fx.dataDir, 'cases', 'train.jsonl'));
  for (const s of scores) {
    const known = rows.flatMap((r) => (r.findings ?? []).filter((f) => f.name === s.finding));
    assert.equal(s.known, known.length, s.finding);
    assert.equal(s.positives, known.filter((f) => f.present).length, s.finding);
    if (s.positives > 0 && s.positives < s.known) {
      assert.equal(s.auroc, 0.5, s.finding);
      // All ties in every replicate too: the interval collapses onto 0.5.
      assert.deepEqual(s.interval95, [0.5, 0.5], s.finding);
    } else assert.ok(Number.isNaN(s.auroc), `${s.finding}: one class only`);
  }
  assert.ok(
    scores.some((s) => s.auroc === 0.5),
    'at least one finding has both classes',
  );
});

test('scores do not depend on the batch size, and a model without the head is refused', async () => {
  const dir = await fx.version('random', fx.config, initWeights(fx.config, 2));
  const whole = await probeFindingHead(dir, fx.dataDir, 'train', { batchSize: 32 });
  const single = await probeFindingHead(dir, fx.dataDir, 'train', { batchSize: 1, cases: 1000 });
  for (const [i, s] of whole.entries()) {
    if (Number.isNaN(s.auroc)) assert.ok(Number.isNaN(single[i].auroc));
    else {
      assert.ok(Math.abs(s.auroc - single[i].auroc) < 1e-9, s.finding);
      const [lo, hi] = s.interval95;
      assert.ok(lo <= s.auroc && s.auroc <= hi, `${s.finding}: ${s.auroc} outside [${lo}, ${hi}]`);
      assert.deepEqual(single[i].interval95, s.interval95, 'the same seeded case replicates');
    }
  }
  assert.ok(
    whole.some((s) => !Number.isNaN(s.auroc) && s.auroc !== 0.5),
    'random weights separate something',
  );
  const { findingHead: _, ...noHead } = fx.config;
  const plain = await fx.version('plain', noHead, initWeights(noHead, 1));
  await assert.rejects(probeFindingHead(plain, fx.dataDir, 'train'), /no finding head/);
});
