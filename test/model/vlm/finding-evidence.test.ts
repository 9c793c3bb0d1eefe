import assert from 'node:assert/strict';
import { test } from 'node:test';
import { geometry, TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import { VlmError } from '../../../src/model/vlm/errors.ts';
import { extendWeights, initWeights, type Weights } from '../../../src/model/vlm/weights.ts';
import { encodedImageTokens } from './helpers.ts';

const withHead: VlmConfig = { ...TEST_TINY, findingHead: 3 };
const withEvidence: VlmConfig = { ...withHead, findingEvidence: true };

const imageTokens = (config: VlmConfig, weights: Weights) => encodedImageTokens(config, weights, 7);

test('a model extended with the finding evidence starts as its parent, and the evidence moves it once trained', async () => {
  const parent = initWeights(withHead, 4);
  const extended = extendWeights(withEvidence, parent, 4);
  assert.ok(extended['proj.findings.weight'].every((v) => v === 0));
  assert.deepEqual(await imageTokens(withEvidence, extended), await imageTokens(withHead, parent));
  const moved = {
    ...extended,
    'proj.findings.weight': extended['proj.findings.weight'].map((_, i) => 0.5 * Math.sin(i + 1)),
  };
  const before = await imageTokens(withHead, parent);
  const after = await imageTokens(withEvidence, moved);
  // Every image token of an image is shifted by the same evidence vector.
  const d = withEvidence.decoderDim;
  const tokens = withEvidence.imageTokens;
  const largest = after.reduce((m, v, i) => Math.max(m, Math.abs(v - before[i])), 0);
  assert.ok(largest > 1e-3, `the evidence moves the tokens (largest shift ${largest})`);
  for (let b = 0; b < 2; b++)
    for (let k = 0; k < d; k++) {
      const shift = after[b * tokens * d + k] - before[b * tokens * d + k];
      for (let t = 1; t < tokens; t++) {
        const i = (b * tokens + t) * d + k;
        assert.ok(Math.abs(after[i] - before[i] - shift) < 1e-5, `token ${t} shifted like token 0`);
      }
    }
});

test('the finding evidence needs the finding head and is a boolean', () => {
  assert.doesNotThrow(() => geometry(withEvidence));
  for (const bad of [
    { ...TEST_TINY, findingEvidence: true },
    { ...withHead, findingEvidence: 1 as unknown as boolean },
  ])
    assert.throws(
      () => geometry(bad),
      (e: unknown) => e instanceof VlmError && e.code === 'VLM_BAD_CONFIG',
    );
});
