import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import { CHEXPO_TINY, geometry, TEST_TINY } from '../../../src/model/vlm/config.ts';
import { VlmError } from '../../../src/model/vlm/errors.ts';
import { collate, promptIds, trainingSequence } from '../../../src/model/vlm/tokens.ts';
import {
  countParameters,
  initWeights,
  loadWeights,
  noWeightDecay,
  parameterSpecs,
  saveWeights,
} from '../../../src/model/vlm/weights.ts';

test('parameter count follows the architecture formula', () => {
  const c = CHEXPO_TINY;
  const block = (w: number) =>
    4 * w + (w * 3 * w + 3 * w) + (w * w + w) + (w * 4 * w + 4 * w) + (4 * w * w + w);
  const expected =
    64 * 128 +
    128 +
    64 * 128 +
    3 * block(128) +
    2 * 128 +
    (128 * 128 + 128) * 2 +
    c.vocabSize * 128 +
    c.maxSeqLen * 128 +
    4 * block(128) +
    2 * 128;
  assert.equal(countParameters(c), expected);
  assert.ok(expected > 1e6 && expected < 3e6, `${expected}`);
});

test('config validation names what is wrong', () => {
  assert.deepEqual(geometry(CHEXPO_TINY), {
    grid: 8,
    patches: 64,
    patchPixels: 64,
    pooledGrid: 4,
    pool: 2,
    stemCells: 0,
  });
  const bad = [
    { ...TEST_TINY, patchSize: 5 },
    { ...TEST_TINY, imageTokens: 3 },
    { ...TEST_TINY, imageTokens: 9 },
    { ...TEST_TINY, decoderHeads: 3 },
    { ...TEST_TINY, embeddingDim: 8 },
    { ...TEST_TINY, encoderLayers: 0 },
  ];
  for (const c of bad)
    assert.throws(
      () => geometry(c),
      (e: unknown) => e instanceof VlmError && e.code === 'VLM_BAD_CONFIG',
    );
});

test('initialisation is seeded per parameter name and GPT-2 shaped', () => {
  const a = initWeights(TEST_TINY, 1);
  const b = initWeights(TEST_TINY, 1);
  const c = initWeights(TEST_TINY, 2);
  assert.deepEqual(a['dec.wte'], b['dec.wte']);
  assert.notDeepEqual(a['dec.wte'], c['dec.wte']);
  assert.ok(a['enc.blocks.0.ln1.weight'].every((v) => v === 1));
  assert.ok(a['dec.blocks.0.mlp.fc.bias'].every((v) => v === 0));
  const big = initWeights(CHEXPO_TINY, 1)['dec.blocks.0.attn.qkv.weight'];
  const std = Math.sqrt(big.reduce((s, v) => s + v * v, 0) / big.length);
  assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);
  const residual = initWeights(CHEXPO_TINY, 1)['dec.blocks.0.attn.proj.weight'];
  const rstd = Math.sqrt(residual.reduce((s, v) => s + v * v, 0) / residual.length);
  assert.ok(Math.abs(rstd - 0.02 / Math.sqrt(8)) < 0.0005, `residual std ${rstd}`);
  assert.ok(
    noWeightDecay('dec.blocks.0.ln1.weight') && noWeightDecay('enc.patch.bias') && noWeightDecay('dec.wpe'),
  );
  assert.ok(!noWeightDecay('dec.wte') && !noWeightDecay('dec.blocks.0.mlp.fc.weight'));
});

test('weights round-trip through safetensors: exact in float32, within fp16 rounding in float16', () => {
  const w = initWeights(TEST_TINY, 3);
  const exact = loadWeights(saveWeights(TEST_TINY, w, { metadata: { step: '7' } }), TEST_TINY);
  assert.deepEqual(exact.config, TEST_TINY);
  assert.equal(exact.metadata.step, '7');
  for (const s of parameterSpecs(TEST_TINY)) assert.deepEqual(exact.weights[s.name], w[s.name]);
  const half = loadWeights(saveWeights(TEST_TINY, w, { fp16: true }));
  for (const s of parameterSpecs(TEST_TINY))
    half.weights[s.name].forEach((v, i) => {
      assert.ok(Math.abs(v - w[s.name][i]) <= 1e-3 * Math.abs(w[s.name][i]) + 1e-7, s.name);
    });
  assert.throws(
    () => loadWeights(saveWeights(TEST_TINY, w), { ...TEST_TINY, vocabSize: 30 }),
    /VLM_BAD_WEIGHTS/,
  );
  const { 'dec.wte': _dropped, ...missing } = w;
  assert.throws(() => saveWeights(TEST_TINY, missing), /missing dec.wte/);
});

test('training sequences: <bos> prompt <sep> target <eos>, shifted by one, loss on the answer and <eos>', () => {
  const tok = Tokenizer.build(['is there a pleural effusion?', 'yes. blunted angle.']);
  const seq = trainingSequence(tok, 'is there a pleural effusion?', 'yes.', 32);
  const prompt = promptIds(tok, 'is there a pleural effusion?');
  assert.deepEqual(prompt.at(0), tok.bosId);
  assert.deepEqual(prompt.at(-1), tok.sepId);
  const yes = tok.idOf('yes')!;
  const dot = tok.idOf('.')!;
  assert.deepEqual(seq.inputIds, [...prompt, yes, dot]);
  assert.deepEqual(seq.targetIds, [...prompt.slice(1), yes, dot, tok.eosId]);
  assert.deepEqual(seq.lossMask, [...prompt.slice(1).map(() => 0), 1, 1, 1]);
  assert.throws(() => trainingSequence(tok, 'is there a pleural effusion?', 'yes.', 5), /VLM_BAD_SEQUENCE/);

  const short = trainingSequence(tok, 'yes', 'yes', 32);
  const batch = collate([seq, short]);
  assert.equal(batch.length, seq.inputIds.length);
  const row1 = Array.from(batch.lossMask.subarray(batch.length));
  assert.deepEqual(row1, [...short.lossMask, ...Array(batch.length - short.inputIds.length).fill(0)]);
  assert.equal(batch.inputIds[2 * batch.length - 1], 0n);
});
