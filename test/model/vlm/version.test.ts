import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import { OrtSession, ortTensor } from '../../../src/model/ort/session.ts';
import {
  buildEncoderGraph,
  initWeights,
  loadVersion,
  loadVersionWeights,
  servingBytes,
  TEST_TINY,
  writeVersion,
} from '../../../src/model/vlm/index.ts';

test('a written version loads by path with weights as external data and matches the in-memory graph', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-version-'));
  try {
    const tokenizer = Tokenizer.build(['is there a small right pleural effusion ? yes .']);
    const config = { ...TEST_TINY, vocabSize: tokenizer.vocabSize };
    const weights = initWeights(config, 3);
    await writeVersion(dir, { config, weights, tokenizer, modelCard: '# test\n' });
    const version = await loadVersion(dir);
    assert.deepEqual(version.config, config);
    assert.equal(version.tokenizer.vocabSize, tokenizer.vocabSize);
    const reloaded = await loadVersionWeights(dir);
    assert.deepEqual(Array.from(reloaded.weights['dec.wte']), Array.from(weights['dec.wte']));

    const image = Float32Array.from({ length: config.imageSize ** 2 }, (_, i) => Math.cos(i / 7));
    const feeds = { image: ortTensor('float32', image, [1, 1, config.imageSize, config.imageSize]) };
    const fromDisk = await OrtSession.create(version.graphs.encoder);
    const inMemory = await OrtSession.create(servingBytes(buildEncoderGraph(config), config, weights));
    const a = (await fromDisk.run(feeds)).embedding.data as Float32Array;
    const b = (await inMemory.run(feeds)).embedding.data as Float32Array;
    assert.deepEqual(Array.from(a), Array.from(b));
    for (const graph of [version.graphs.prefill, version.graphs.step]) await OrtSession.create(graph);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a published version ignores optional files its manifest does not list', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-version-'));
  try {
    const tokenizer = Tokenizer.build(['is there a pneumothorax ? no .']);
    const config = { ...TEST_TINY, vocabSize: tokenizer.vocabSize };
    await writeVersion(dir, { config, weights: initWeights(config, 1), tokenizer, modelCard: '# t\n' });
    await writeFile(join(dir, 'calibrator.json'), '{"stray": true}');
    assert.deepEqual((await loadVersion(dir)).calibrator, { stray: true }, 'staging: loads what is there');
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ files: [{ path: 'config.json' }] }));
    assert.equal((await loadVersion(dir)).calibrator, undefined, 'published: unlisted files are not loaded');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
