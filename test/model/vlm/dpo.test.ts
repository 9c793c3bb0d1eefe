import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import { toBytes } from '../../../src/model/graph/index.ts';
import { ortTensor } from '../../../src/model/ort/session.ts';
import { TEST_TINY } from '../../../src/model/vlm/config.ts';
import { buildDpoGraph, buildSftGraph, type DpoOptions } from '../../../src/model/vlm/training.ts';
import { initWeights } from '../../../src/model/vlm/weights.ts';
import {
  jitteredWeights,
  randomImages,
  randomSequence,
  sequenceFeeds,
  trainingSession,
  weightFeeds,
} from './helpers.ts';

const config = TEST_TINY;
const weights = jitteredWeights(initWeights(config, 4), 0.2, 4);
const rng = Rng.derive(8, 'dpo');
const B = 3;
const chosen = Array.from({ length: B }, () => randomSequence(config, 6, 3, rng));
const rejected = Array.from({ length: B }, () => randomSequence(config, 8, 4, rng));
const chosenImages = randomImages(config, B, 1);
// Image-counterfactual pairs: the rejected side sees a different image.
const rejectedImages = randomImages(config, B, 2);
const refChosen = [-10, -9.5, -11];
const refRejected = [-13, -9, -12.5];
const pairWeight = [1, 2, 0.5];
const replay = Array.from({ length: 2 }, () => randomSequence(config, 7, 3, rng));
const replayImages = randomImages(config, 2, 3);

const logSigmoid = (x: number) => -Math.log1p(Math.exp(-x));

/** The DPO statistics computed in JS from the SFT graph's per-sequence log-probs. */
function reference(pc: number[], pr: number[], sftLoss: number, replayLoss: number, o: DpoOptions) {
  const rc = pc.map((p, i) => o.beta * (p - refChosen[i]));
  const rr = pr.map((p, i) => o.beta * (p - refRejected[i]));
  const eps = o.labelSmoothing;
  const per = pc.map((_, i) => {
    const h = pc[i] - refChosen[i] - (pr[i] - refRejected[i]);
    const z = o.beta * h;
    if (o.lossType === 'ipo') return (h - 1 / (2 * o.beta)) ** 2;
    if (o.lossType === 'robust') return (-(1 - eps) * logSigmoid(z) + eps * logSigmoid(-z)) / (1 - 2 * eps);
    return -(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z);
  });
  const wsum = pairWeight.reduce((a, b) => a + b, 0);
  const anchor = rc.reduce((a, r, i) => a - logSigmoid(r) * pairWeight[i], 0) / wsum;
  const loss =
    per.reduce((a, l, i) => a + l * pairWeight[i], 0) / wsum +
    o.sftWeight * sftLoss +
    o.anchorWeight * anchor +
    o.replayWeight * replayLoss;
  return {
    loss,
    rewards_chosen: rc,
    rewards_rejected: rr,
    margins: rc.map((c, i) => c - rr[i]),
    accuracy: rc.filter((c, i) => c > rr[i]).length / B,
  };
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: graph ${a}, reference ${b}`);

test('DPO statistics equal a JS computation from the SFT graph’s sequence log-probs, for every loss type', async () => {
  const sft = await trainingSession(toBytes(buildSftGraph(config), { parametersAs: 'inputs' }));
  const w = weightFeeds(config, weights);
  const c = await sft.run({ ...w, ...sequenceFeeds(config, chosenImages, chosen) });
  const r = await sft.run({ ...w, ...sequenceFeeds(config, rejectedImages, rejected) });
  const pc = Array.from(c.sequence_logprob.data as Float32Array);
  const pr = Array.from(r.sequence_logprob.data as Float32Array);
  const sftLoss = Number((c.loss.data as Float32Array)[0]);
  const replayLoss = Number(
    ((await sft.run({ ...w, ...sequenceFeeds(config, replayImages, replay) })).loss.data as Float32Array)[0],
  );
  await sft.release();

  const plain = { anchorWeight: 0, replayWeight: 0 };
  const variants: DpoOptions[] = [
    { beta: 0.1, lossType: 'sigmoid', labelSmoothing: 0, sftWeight: 0, ...plain },
    { beta: 0.3, lossType: 'sigmoid', labelSmoothing: 0.1, sftWeight: 0.5, ...plain },
    { beta: 0.2, lossType: 'ipo', labelSmoothing: 0, sftWeight: 0, ...plain },
    { beta: 0.5, lossType: 'robust', labelSmoothing: 0.2, sftWeight: 0, ...plain },
    // mDPO's anchor on the chosen reward and an SFT replay batch of its own size.
    {
      beta: 0.2,
      lossType: 'sigmoid',
      labelSmoothing: 0,
      sftWeight: 0.3,
      anchorWeight: 0.7,
      replayWeight: 0.4,
    },
  ];
  for (const o of variants) {
    const dpo = await trainingSession(toBytes(buildDpoGraph(config, o), { parametersAs: 'inputs' }));
    const out = await dpo.run({
      ...w,
      ...sequenceFeeds(config, chosenImages, chosen, 'chosen.'),
      ...sequenceFeeds(config, rejectedImages, rejected, 'rejected.'),
      ref_chosen_logprob: ortTensor('float32', Float32Array.from(refChosen), [B]),
      ref_rejected_logprob: ortTensor('float32', Float32Array.from(refRejected), [B]),
      pair_weight: ortTensor('float32', Float32Array.from(pairWeight), [B]),
      ...(o.replayWeight > 0 ? sequenceFeeds(config, replayImages, replay, 'replay.') : {}),
    });
    const want = reference(pc, pr, sftLoss, replayLoss, o);
    const tag = `${o.lossType} β=${o.beta} ε=${o.labelSmoothing}`;
    close(Number((out.loss.data as Float32Array)[0]), want.loss, `${tag} loss`);
    close(Number((out.accuracy.data as Float32Array)[0]), want.accuracy, `${tag} accuracy`);
    const vectors: [string, ArrayLike<number>, number[]][] = [
      ['rewards_chosen', out.rewards_chosen.data as Float32Array, want.rewards_chosen],
      ['rewards_rejected', out.rewards_rejected.data as Float32Array, want.rewards_rejected],
      ['margins', out.margins.data as Float32Array, want.margins],
      ['logprob_chosen', out.logprob_chosen.data as Float32Array, pc],
      ['logprob_rejected', out.logprob_rejected.data as Float32Array, pr],
    ];
    for (const [name, got, expected] of vectors)
      for (let i = 0; i < B; i++) close(got[i], expected[i], `${tag} ${name}[${i}]`);
    assert.ok(out['grad.dec.wte'], 'gradients are outputs');
    await dpo.release();
  }
  // Accuracy must be informative here: neither all wins nor all losses.
  const acc = reference(pc, pr, sftLoss, replayLoss, variants[0]).accuracy;
  assert.ok(acc > 0 && acc < 1, `accuracy ${acc}`);
});
