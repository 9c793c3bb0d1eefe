import assert from 'node:assert/strict';
import { test } from 'node:test';
import { geometry, TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import { VlmError } from '../../../src/model/vlm/errors.ts';
import { extendWeights, initWeights, type Weights } from '../../../src/model/vlm/weights.ts';
import { encodedImageTokens } from './helpers.ts';

const withStem: VlmConfig = { ...TEST_TINY, stemSubPatch: 2, stemWidth: 3 };

const imageTokens = (config: VlmConfig, weights: Weights) => encodedImageTokens(config, weights, 5);

test('a stem-extended model starts as its parent (zero projection), and the stem changes it once trained', async () => {
  const parent = initWeights(TEST_TINY, 4);
  const extended = extendWeights(withStem, parent, 4);
  assert.ok(extended['enc.stem.proj.weight'].every((v) => v === 0));
  const fc = extended['enc.stem.fc.weight'];
  const std = Math.sqrt(fc.reduce((a, v) => a + v * v, 0) / fc.length);
  assert.ok(Math.abs(std - 1 / 2) < 0.2, `pixel layer std ${std} (fan-in 4)`);
  assert.deepEqual(await imageTokens(withStem, extended), await imageTokens(TEST_TINY, parent));
  const moved = {
    ...extended,
    'enc.stem.proj.weight': extended['enc.stem.proj.weight'].map((_, i) => 0.05 * Math.sin(i)),
  };
  assert.notDeepEqual(await imageTokens(withStem, moved), await imageTokens(TEST_TINY, parent));
});

test('extending weights refuses size changes and dropped parameters; stem config is validated', () => {
  const parent = initWeights(TEST_TINY, 4);
  assert.throws(
    () => extendWeights({ ...withStem, encoderDim: 8, embeddingDim: 8 }, parent, 4),
    (e: unknown) => e instanceof VlmError && /differs in size/.test(e.message),
  );
  assert.throws(
    () => extendWeights(TEST_TINY, initWeights(withStem, 1), 4),
    (e: unknown) => e instanceof VlmError && /enc\.stem\.fc\.weight/.test(e.message),
  );
  assert.equal(geometry(withStem).stemCells, 4);
  assert.equal(geometry(TEST_TINY).stemCells, 0);
  for (const bad of [
    { ...TEST_TINY, stemSubPatch: 2 },
    { ...TEST_TINY, stemWidth: 3 },
    { ...TEST_TINY, stemSubPatch: 3, stemWidth: 3 },
  ])
    assert.throws(
      () => geometry(bad),
      (e: unknown) => e instanceof VlmError && e.code === 'VLM_BAD_CONFIG',
    );
});
