import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDpoDataset, DpoError, imageRefKey } from '../../../src/loop/dpo/index.ts';
import type { ImageRef } from '../../../src/loop/types.ts';
import { TEST_TINY } from '../../../src/model/vlm/config.ts';
import { caseImage, closedPairs, testTokenizer } from './helpers.ts';

const tokenizer = testTokenizer();
const config = { ...TEST_TINY, vocabSize: tokenizer.vocabSize };
const options = (calls: string[]) => ({
  tokenizer,
  maxSeqLen: config.maxSeqLen,
  imageSize: config.imageSize,
  resolveImage: async (ref: ImageRef) => {
    calls.push(imageRefKey(ref));
    return caseImage(config, ref.kind === 'case' ? ref.case_id : 'c0');
  },
});

test('pairs too long for maxSeqLen, identical after tokenising, or without a positive weight are dropped and counted', async () => {
  const [a, b, c, d, e] = closedPairs(5);
  const pairs = [
    a,
    { ...b, rejected: `a very long answer that does not fit . ${b.rejected}` },
    // Unknown words both become <unk>: different strings, same ids, same image → no signal.
    { ...c, chosen: 'zebra .', rejected: 'giraffe .' },
    { ...d, weight: 0 },
    { ...e, weight: Number.NaN },
  ];
  const calls: string[] = [];
  const dataset = await buildDpoDataset(pairs, options(calls));
  assert.equal(dataset.examples.length, 1);
  assert.equal(dataset.tooLong, 1);
  assert.equal(dataset.identical, 1);
  assert.equal(dataset.badWeight, 2);
  const [ex] = dataset.examples;
  assert.equal(ex.pair, a);
  assert.equal(ex.length, Math.max(ex.chosen.inputIds.length, ex.rejected.inputIds.length));
  assert.ok(ex.chosen.inputIds.length <= config.maxSeqLen);
  // Same prompt, different answers: the prompt prefix is shared, the answer span differs.
  assert.notDeepEqual(ex.chosen.targetIds, ex.rejected.targetIds);
  assert.equal(ex.chosen.lossMask.indexOf(1), ex.rejected.lossMask.indexOf(1));
});

test('each distinct image reference is resolved once, whatever the key order of its JSON', async () => {
  const pairs = closedPairs(4);
  // Two pairs of the same case, one with its ref written in another key order.
  pairs[2] = { ...pairs[2], chosenImage: { case_id: 'c0', kind: 'case' } as ImageRef };
  pairs[2].rejectedImage = { kind: 'case', case_id: 'c0' };
  const calls: string[] = [];
  const dataset = await buildDpoDataset(pairs, options(calls));
  assert.equal(dataset.examples.length, 4);
  assert.equal(calls.length, 3);
  assert.equal(dataset.images, 3);
  assert.equal(
    dataset.examples[0].chosenImage,
    dataset.examples[2].chosenImage,
    'one array per distinct image',
  );
  assert.equal(dataset.examples[1].chosenImage, dataset.examples[1].rejectedImage);
});

test('an image of the wrong size is a coded error', async () => {
  await assert.rejects(
    buildDpoDataset(closedPairs(1), { ...options([]), resolveImage: async () => new Float32Array(3) }),
    (e: unknown) => e instanceof DpoError && e.code === 'DPO_BAD_IMAGE',
  );
});
