import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import { toBytes } from '../../../src/model/graph/index.ts';
import { adamWStep, initAdamW } from '../../../src/model/train/adamw.ts';
import { learningRate } from '../../../src/model/train/schedule.ts';
import { TEST_TINY } from '../../../src/model/vlm/config.ts';
import { buildSftGraph } from '../../../src/model/vlm/training.ts';
import { initWeights, noWeightDecay, parameterSpecs } from '../../../src/model/vlm/weights.ts';
import { randomImages, randomSequence, sequenceFeeds, trainingSession, weightFeeds } from './helpers.ts';

test('a few AdamW steps on one tiny batch drive the SFT loss down (overfit check)', async () => {
  const config = TEST_TINY;
  const weights = initWeights(config, 5);
  const session = await trainingSession(toBytes(buildSftGraph(config), { parametersAs: 'inputs' }));
  const rng = Rng.derive(5, 'overfit');
  const data = sequenceFeeds(
    config,
    randomImages(config, 4, 5),
    Array.from({ length: 4 }, () => randomSequence(config, 8, 5, rng)),
  );
  const state = initAdamW(weights);
  const schedule = { peak: 1e-2, warmupSteps: 3, totalSteps: 40, minRatio: 0.1 };
  const names = parameterSpecs(config).map((s) => s.name);
  const losses: number[] = [];
  for (let step = 0; step < 40; step++) {
    const out = await session.run({ ...weightFeeds(config, weights), ...data });
    losses.push(Number((out.loss.data as Float32Array)[0]));
    const grads = Object.fromEntries(names.map((n) => [n, out[`grad.${n}`].data as Float32Array]));
    adamWStep(weights, grads, state, learningRate(step, schedule), undefined, noWeightDecay);
  }
  await session.release();
  assert.ok(Math.abs(losses[0] - Math.log(config.vocabSize)) < 0.1, `initial loss ${losses[0]}`);
  assert.ok(losses[39] < 0.3 * losses[0], `loss ${losses[0]} → ${losses[39]}`);
});
