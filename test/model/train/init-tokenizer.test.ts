import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { trainCommand } from '../../../src/cli/train.ts';
import { synthesize } from '../../../src/data/synth/run.ts';
import type { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import { loadSplit } from '../../../src/model/train/dataset.ts';
import { SplitScorer } from '../../../src/model/train/sft.ts';
import { loadVersion, loadVersionWeights } from '../../../src/model/vlm/version.ts';

let dir: string;
let a: Tokenizer;
let b: Tokenizer;
const quiet = async (f: () => Promise<void>) => {
  const log = console.log;
  console.log = () => {};
  try {
    await f();
  } finally {
    console.log = log;
  }
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chexpo-init-'));
  const synth = (seed: number, cases: number) =>
    synthesize({ cases, seed, outDir: join(dir, `data-${seed}`), size: 64, formats: ['png16'], workers: 1 });
  a = (await synth(11, 24)).tokenizer;
  b = (await synth(12, 12)).tokenizer;
});
after(() => rm(dir, { recursive: true, force: true }));

test('--init continues a model with its own vocabulary: the first loss on fresh data is its validation loss', async () => {
  const va = a.vocab;
  const vb = b.vocab;
  const differing = va.filter((w, id) => vb[id] !== w);
  assert.ok(differing.length > 0, 'the two data sets must build different word-to-id maps');
  const first = join(dir, 'run-a');
  const common = ['--model', 'test', '--batch', '8', '--threads', '1', '--val-cases', '2', '--warmup', '2'];
  await quiet(() =>
    trainCommand([
      'sft',
      '--data',
      join(dir, 'data-11'),
      '--out',
      first,
      '--epochs',
      '10',
      '--lr',
      '5e-3',
      ...common,
    ]),
  );
  const model = {
    ...(await loadVersionWeights(join(first, 'version'))),
    tokenizer: (await loadVersion(join(first, 'version'))).tokenizer,
  };
  // The model's loss on the new data set, tokenised with the model's own tokenizer.
  const split = await loadSplit(join(dir, 'data-12'), 'train', {
    tokenizer: model.tokenizer,
    imageSize: model.config.imageSize,
    maxSeqLen: model.config.maxSeqLen,
  });
  const scorer = await SplitScorer.create(model.config, 1);
  const expected = await scorer.meanNll(split, model.weights);
  // What the old behaviour (the data set's own word map) would have started from.
  const foreign = await scorer.meanNll(
    await loadSplit(join(dir, 'data-12'), 'train', {
      tokenizer: b,
      imageSize: model.config.imageSize,
      maxSeqLen: model.config.maxSeqLen,
    }),
    model.weights,
  );
  await scorer.release();
  assert.ok(foreign > 1.5 * expected, `foreign map ${foreign} vs own ${expected}`);

  const second = join(dir, 'run-b');
  await quiet(() =>
    trainCommand([
      'sft',
      '--data',
      join(dir, 'data-12'),
      '--out',
      second,
      '--init',
      join(first, 'version'),
      '--max-steps',
      '1',
      '--lr',
      '1e-9',
      ...common,
    ]),
  );
  const metrics = JSON.parse(await readFile(join(second, 'metrics.json'), 'utf8'));
  const firstLoss = metrics.steps[0].loss;
  // One batch of 8 against the whole split: within 35% (a foreign word map starts near ln V ≈ 5.7).
  assert.ok(
    Math.abs(firstLoss - expected) < 0.35 * expected,
    `first loss ${firstLoss}, model's loss ${expected}`,
  );
});

test('--init with --stem (and --image-size) starts where the parent stands: the first loss is the parent’s', async () => {
  const common = ['--model', 'test', '--batch', '8', '--threads', '1', '--val-cases', '2', '--warmup', '2'];
  const data = join(dir, 'data-11');
  const parent = join(dir, 'stem-parent');
  await quiet(() => trainCommand(['sft', '--data', data, '--out', parent, '--max-steps', '3', ...common]));
  const once = async (out: string, extra: string[]) => {
    const args = ['sft', '--data', data, '--out', out, '--init', join(parent, 'version'), '--max-steps', '1'];
    await quiet(() => trainCommand([...args, '--lr', '1e-9', ...extra, ...common]));
    return JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')).steps[0].loss as number;
  };
  const plain = await once(join(dir, 'stem-plain'), []);
  const stemmed = await once(join(dir, 'stem-on'), ['--stem', '2x3']);
  assert.ok(Math.abs(plain - stemmed) < 1e-5, `first loss ${stemmed} with the stem, ${plain} without`);
  // 2× the input (32 px from the 64-px data; the parent's 16 px is its 2×2 box average).
  const larger = await once(join(dir, 'stem-32'), ['--stem', '2x3', '--image-size', '32']);
  assert.ok(Math.abs(plain - larger) < 1e-4, `first loss ${larger} at 32 px, ${plain} at 16 px`);
  assert.equal((await loadVersionWeights(join(dir, 'stem-32', 'version'))).config.patchSize, 8);
  const { config, weights } = await loadVersionWeights(join(dir, 'stem-on', 'version'));
  assert.equal(config.stemSubPatch, 2);
  assert.equal(config.stemWidth, 3);
  assert.equal(weights['enc.stem.proj.weight'].length, 4 * 3 * config.encoderDim);
  const card = await readFile(join(dir, 'stem-on', 'version', 'model-card.md'), 'utf8');
  assert.match(card, /pixel stem \(2×2-pixel sub-patches, 3 features each\)/);
  await assert.rejects(
    trainCommand(['sft', '--data', data, '--out', join(dir, 'x'), '--stem', '2x3']),
    /need --init/,
  );
  await assert.rejects(
    trainCommand(['sft', '--data', data, '--out', join(dir, 'x'), '--init', parent, '--stem', '2by3']),
    /SUBPATCHxWIDTH/,
  );
});
