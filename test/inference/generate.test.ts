import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type GenerationRequest,
  Generator,
  greedyToken,
  stopAtEos,
  stopAtMaxTokens,
  suppressTokens,
} from '../../src/inference/generate.ts';
import { greedyRecompute } from '../model/vlm/generate.ts';
import { decodingFixture, randomImages } from '../model/vlm/helpers.ts';

const { config, serving } = decodingFixture();
const NO_EOS = -1;

const s2 = config.imageSize ** 2;
const images = randomImages(config, 3, 5);
const image = (b: number) => images.slice(b * s2, (b + 1) * s2);
const prompts = [
  [1, 9, 7, 4],
  [1, 12, 4],
  [1, 6, 11, 13, 8, 4],
];

test('generate with the KV cache equals greedy recompute without a cache, row by row', async () => {
  const s = await serving;
  const gen = new Generator(s, config, { eosId: NO_EOS });
  const steps = 8;
  const requests = prompts.map((p, b) => ({ image: image(b), promptIds: p, maxTokens: steps }));
  const out = await gen.generate(requests);
  for (let b = 0; b < prompts.length; b++) {
    const want = await greedyRecompute(s, config, image(b), prompts[b], steps);
    assert.deepEqual(out[b].ids, want, `row ${b}`);
    assert.equal(out[b].stop, 'max_tokens');
    assert.deepEqual(
      out[b].tokens.map((t) => t.id),
      out[b].ids,
    );
  }
});

test('a batch gives the same tokens and confidences as each request alone', async () => {
  const s = await serving;
  const gen = new Generator(s, config, { eosId: NO_EOS });
  const requests: GenerationRequest[] = prompts.map((p, b) => ({
    image: image(b),
    promptIds: p,
    maxTokens: 6,
  }));
  const batched = await gen.generate(requests, { topLogprobs: 3 });
  for (let b = 0; b < requests.length; b++) {
    const [alone] = await gen.generate([requests[b]], { topLogprobs: 3 });
    assert.deepEqual(batched[b].ids, alone.ids);
    batched[b].tokens.forEach((t, k) => {
      const a = alone.tokens[k];
      assert.ok(Math.abs(t.logprob - a.logprob) < 1e-4, `row ${b} token ${k}: ${t.logprob} vs ${a.logprob}`);
      assert.ok(Math.abs(t.entropy - a.entropy) < 1e-4);
      assert.deepEqual(
        t.top?.map((x) => x.id),
        a.top?.map((x) => x.id),
      );
    });
  }
});

test('requests sharing one image array share an encoder row and still match separate images', async () => {
  const s = await serving;
  const gen = new Generator(s, config, { eosId: NO_EOS });
  const shared = image(0);
  const same = await gen.generate(prompts.map((p) => ({ image: shared, promptIds: p, maxTokens: 5 })));
  const copies = await gen.generate(
    prompts.map((p) => ({ image: shared.slice(), promptIds: p, maxTokens: 5 })),
  );
  assert.deepEqual(
    same.map((g) => g.ids),
    copies.map((g) => g.ids),
  );
});

test('token confidences: chosen token first in top-k, top-k of the whole vocabulary sums to one', async () => {
  const s = await serving;
  const gen = new Generator(s, config, { eosId: NO_EOS });
  const [g] = await gen.generate([{ image: image(1), promptIds: prompts[1], maxTokens: 6 }], {
    topLogprobs: 5,
  });
  for (const t of g.tokens) {
    assert.equal(t.top?.length, 5);
    assert.equal(t.top?.[0].id, t.id);
    assert.ok(Math.abs(t.top![0].logprob - t.logprob) < 1e-9);
    for (let i = 1; i < 5; i++) assert.ok(t.top![i].logprob <= t.top![i - 1].logprob);
    const mass = t.top!.reduce((sum, x) => sum + Math.exp(x.logprob), 0);
    assert.ok(mass <= 1 + 1e-9 && mass >= t.prob);
    assert.ok(Math.abs(t.prob - Math.exp(t.logprob)) < 1e-12);
    assert.ok(t.entropy >= 0 && t.entropy <= Math.log(config.vocabSize) + 1e-9);
  }
  // Five logits, all five alternatives: the distribution itself.
  const row = Float32Array.from([2, -1, 0.5, 3, 3]);
  const t = greedyToken(row, 5);
  assert.equal(t.id, 3, 'ties go to the lowest id');
  assert.deepEqual(
    t.top!.map((x) => x.id),
    [3, 4, 0, 2, 1],
  );
  assert.ok(Math.abs(t.top!.reduce((sum, x) => sum + Math.exp(x.logprob), 0) - 1) < 1e-12);
  // Stable for huge logits; uniform rows have entropy log n.
  const huge = greedyToken(Float32Array.from([1000, 1000, -1000]));
  assert.ok(Math.abs(huge.prob - 0.5) < 1e-12);
  assert.ok(Math.abs(greedyToken(new Float32Array(7)).entropy - Math.log(7)) < 1e-12);
});

test('stopping: at <eos> (that row only), at the token budget, and at maxSeqLen', async () => {
  const s = await serving;
  const free = await new Generator(s, config, { eosId: NO_EOS }).generate(
    prompts.map((p, b) => ({ image: image(b), promptIds: p, maxTokens: 6 })),
  );
  // Pretend row 0's third token is <eos>; rows that never produce that id run to the budget.
  const eos = free[0].ids[2];
  const gen = new Generator(s, config, { eosId: eos });
  const out = await gen.generate(prompts.map((p, b) => ({ image: image(b), promptIds: p, maxTokens: 6 })));
  out.forEach((g, b) => {
    const at = free[b].ids.indexOf(eos);
    if (at >= 0) {
      assert.equal(g.stop, 'eos');
      assert.deepEqual(g.ids, free[b].ids.slice(0, at + 1));
    } else {
      assert.equal(g.stop, 'max_tokens');
      assert.deepEqual(g.ids, free[b].ids);
    }
  });
  assert.equal(out[0].ids.length, 3);

  const budget = await gen.generate([
    { image: image(1), promptIds: prompts[1], maxTokens: 0 },
    { image: image(1), promptIds: [1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 4], maxTokens: 10 },
  ]);
  assert.deepEqual(budget[0], { ids: [], tokens: [], stop: 'max_tokens' });
  // 15 prompt positions of 16: one token can be fed back, so two can be generated.
  assert.ok(budget[1].ids.length <= 2);
  assert.equal(stopAtEos(2)([5, 2], 9), 'eos');
  assert.equal(stopAtMaxTokens([5, 6], 2), 'max_tokens');
  assert.equal(stopAtMaxTokens([5], 2), undefined);
  await assert.rejects(
    gen.generate([{ image: image(0), promptIds: Array(17).fill(5), maxTokens: 1 }]),
    /VLM_BAD_SEQUENCE/,
  );
});

test('a logits processor bans tokens; probabilities are renormalised over the rest', async () => {
  const s = await serving;
  const request = { image: image(2), promptIds: prompts[2], maxTokens: 4 };
  const [plain] = await new Generator(s, config, { eosId: NO_EOS }).generate([request], { topLogprobs: 2 });
  const [first, second] = plain.tokens[0].top!;
  const [g] = await new Generator(s, config, {
    eosId: NO_EOS,
    processors: [suppressTokens([first.id])],
  }).generate([request], { topLogprobs: 5 });
  assert.ok(!g.ids.includes(first.id));
  assert.equal(g.ids[0], second.id);
  // p'(second) = p(second) / (1 − p(banned))
  const want = Math.exp(second.logprob) / (1 - Math.exp(first.logprob));
  assert.ok(Math.abs(g.tokens[0].prob - want) < 1e-5, `${g.tokens[0].prob} vs ${want}`);
});
