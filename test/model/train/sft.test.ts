import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { synthesize } from '../../../src/data/synth/run.ts';
import type { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import { epochBatches, type LoadedSplit, loadSplit } from '../../../src/model/train/dataset.ts';
import { runTraining } from '../../../src/model/train/run-training.ts';
import { parameterShapes, SplitScorer, sftProgram } from '../../../src/model/train/sft.ts';
import { CHEXPO_TINY, TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import { initWeights, noWeightDecay } from '../../../src/model/vlm/weights.ts';

let dir: string;
let train: LoadedSplit;
let config: VlmConfig;
let tokenizer: Tokenizer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chexpo-sft-'));
  const result = await synthesize({
    cases: 16,
    seed: 5,
    outDir: join(dir, 'data'),
    size: 64,
    formats: ['png16'],
  });
  tokenizer = result.tokenizer;
  config = { ...TEST_TINY, vocabSize: tokenizer.vocabSize, maxSeqLen: CHEXPO_TINY.maxSeqLen };
  train = await loadSplit(join(dir, 'data'), 'train', {
    tokenizer,
    imageSize: config.imageSize,
    maxSeqLen: 256,
  });
});
after(() => rm(dir, { recursive: true, force: true }));

const options = (params: Record<string, Float32Array>, extra = {}) => ({
  params,
  shapes: parameterShapes(config),
  epochs: 2,
  schedule: { peak: 3e-3, warmupSteps: 2, minRatio: 0.1, totalSteps: 12 },
  noDecay: noWeightDecay,
  intraOpThreads: 1,
  ...extra,
});

test('epoch batches cover every example once, group similar lengths, and depend only on (seed, epoch)', () => {
  const lengths = Array.from({ length: 300 }, (_, i) => (i * 37) % 90);
  const a = epochBatches(lengths, 8, 1, 0);
  assert.deepEqual(a, epochBatches(lengths, 8, 1, 0));
  assert.notDeepEqual(a, epochBatches(lengths, 8, 1, 1));
  assert.deepEqual(
    a.flat().sort((x, y) => x - y),
    lengths.map((_, i) => i),
  );
  const spread = a.map((b) => Math.max(...b.map((i) => lengths[i])) - Math.min(...b.map((i) => lengths[i])));
  assert.ok(spread.reduce((s, x) => s + x, 0) / spread.length < 15, 'batches mix very different lengths');
});

test('SFT lowers the training loss, and a resumed run ends with exactly the same weights', async () => {
  const program = sftProgram(config, train, 4, 7);
  const straight = initWeights(config, 2);
  const logs = await runTraining(program, options(straight, { maxSteps: 12 }));
  const first = logs.slice(0, 2).reduce((s, l) => s + l.loss, 0) / 2;
  const last = logs.slice(-2).reduce((s, l) => s + l.loss, 0) / 2;
  assert.ok(last < first, `loss did not fall: ${first} → ${last}`);

  const checkpointPath = join(dir, 'checkpoint.safetensors');
  const resumed = initWeights(config, 2);
  await runTraining(program, options(resumed, { maxSteps: 5, checkpointPath, checkpointEvery: 3 }));
  const fresh = initWeights(config, 2);
  await runTraining(program, options(fresh, { maxSteps: 12, checkpointPath, resume: true }));
  for (const name of Object.keys(straight))
    assert.deepEqual(Array.from(fresh[name]), Array.from(straight[name]), `${name} differs after resuming`);

  const scorer = await SplitScorer.create(config, 1);
  const trained = await scorer.meanNll(train, straight);
  const untrained = await scorer.meanNll(train, initWeights(config, 2));
  await scorer.release();
  assert.ok(trained < untrained, `scorer NLL ${trained} not below untrained ${untrained}`);
});
