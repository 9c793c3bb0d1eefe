import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchMatMul, benchSftStep, forwardMatmulFlops } from '../../../src/model/vlm/bench.ts';
import { CHEXPO_TINY, TEST_TINY } from '../../../src/model/vlm/config.ts';
import { countParameters } from '../../../src/model/vlm/weights.ts';

test('matmul FLOP count: hand count for TEST_TINY, close to 2·params·tokens for chexpo-tiny', () => {
  // TEST_TINY, 6 text tokens: 16 patches of 16 px, width 16, MLP ×2, 4 image tokens, 10 decoder positions.
  const linears = 16 * 48 + 16 * 16 + 2 * 16 * 32;
  const encoder = 16 * (16 * 16 + linears) + 2 * 16 * 16 * 16;
  const projector = 4 * (16 * 16 + 16 * 16);
  const decoder = 10 * linears + 2 * 10 * 10 * 16 + 6 * 16 * 24;
  assert.equal(forwardMatmulFlops(TEST_TINY, 6), 2 * (encoder + projector + decoder));
  const approx = 2 * countParameters(CHEXPO_TINY) * (CHEXPO_TINY.imageTokens + 60);
  const exact = forwardMatmulFlops(CHEXPO_TINY, 60);
  assert.ok(exact > 0.7 * approx && exact < 1.1 * approx, `${exact} vs ${approx}`);
});

test('benchmarks report consistent figures', async () => {
  const mm = await benchMatMul(64, 32, 16, { runs: 1, warmup: 0, threads: 1 });
  assert.ok(mm.ms > 0 && Math.abs(mm.gflops - (2 * 64 * 32 * 16) / (mm.ms * 1e6)) < 1e-9);
  const sft = await benchSftStep(TEST_TINY, 2, 6, { runs: 1, warmup: 0, threads: 1 });
  assert.equal(sft.tokensPerStep, 2 * (4 + 6));
  assert.equal(sft.parameters, 6224);
  assert.ok(sft.stepMs > 0 && sft.samplesPerSecond > 0 && sft.gflops > 0);
});
