import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Generator } from '../../../src/inference/generate.ts';
import {
  buildDpoDataset,
  DPO_STAT_OUTPUTS,
  type DpoResult,
  dpoProgram,
  referenceLogProbs,
  TRL_KEYS,
  trainDpo,
} from '../../../src/loop/dpo/index.ts';
import type { ImageRef } from '../../../src/loop/types.ts';
import { OrtSession, ortTensor } from '../../../src/model/ort/session.ts';
import { promptIds } from '../../../src/model/vlm/tokens.ts';
import { loadVersion, loadVersionWeights } from '../../../src/model/vlm/version.ts';
import { parameterSpecs } from '../../../src/model/vlm/weights.ts';
import { caseImage, closedPairs, QUESTION, writeBaseVersion } from './helpers.ts';

let dir: string;
let baseDir: string;
let result: DpoResult;
const pairs = closedPairs(8);
let config: Awaited<ReturnType<typeof writeBaseVersion>>;
const resolveImage = async (ref: ImageRef) => caseImage(config, ref.kind === 'case' ? ref.case_id : '');
const progress: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chexpo-dpo-'));
  baseDir = join(dir, 'base');
  config = await writeBaseVersion(baseDir);
  result = await trainDpo({
    baseVersionDir: baseDir,
    pairs,
    resolveImage,
    outDir: join(dir, 'run'),
    // A high learning rate: TEST_TINY must move visibly in 24 steps. No SFT term: on random weights its
    // NLL (~3.8 nats/token) would dwarf the preference term this run is about.
    options: {
      sftWeight: 0,
      learningRate: 1e-2,
      epochs: 12,
      batchSize: 4,
      warmupRatio: 0.1,
      logEvery: 5,
      summaryWindow: 4,
    },
    onProgress: (line) => progress.push(line),
  });
});
after(() => rm(dir, { recursive: true, force: true }));

test('with the reference weights as the policy every pair’s rewards are 0 and the loss is ln 2', async () => {
  const { weights } = await loadVersionWeights(baseDir);
  const version = await loadVersion(baseDir);
  const dataset = await buildDpoDataset(pairs, {
    tokenizer: version.tokenizer,
    maxSeqLen: config.maxSeqLen,
    imageSize: config.imageSize,
    resolveImage,
  });
  const reference = await referenceLogProbs(config, weights, dataset.examples, { batchSize: 3 });
  assert.ok(reference.chosen.every((lp) => lp < 0) && reference.rejected.every((lp) => lp < 0));
  const program = dpoProgram(config, dataset, { batchSize: 4, seed: 2, reference, dpo: { beta: 0.5 } });
  const session = await OrtSession.create(program.graph, { intraOpThreads: 1 });
  const params = Object.fromEntries(
    parameterSpecs(config).map((s) => [s.name, ortTensor('float32', weights[s.name], s.shape)]),
  );
  let seen = 0;
  for (const batch of program.batches(0)) {
    const out = await session.run({ ...program.feeds(batch), ...params }, ['loss', ...DPO_STAT_OUTPUTS]);
    for (const name of ['rewards_chosen', 'rewards_rejected', 'margins'])
      for (const r of out[name].data as Float32Array) assert.ok(Math.abs(r) < 1e-5, `${name} ${r} at step 0`);
    assert.ok(Math.abs((out.loss.data as Float32Array)[0] - Math.LN2) < 1e-5);
    // The DPO graph's log-probs are the reference ones, pair by pair.
    const lp = out.logprob_chosen.data as Float32Array;
    batch.indices.forEach((i, r) => {
      assert.ok(Math.abs(lp[r] - reference.chosen[i]) < 1e-4);
    });
    seen += batch.indices.length;
  }
  await session.release();
  assert.equal(seen, pairs.length);
  assert.ok(Math.abs(result.steps[0]['rewards/margins']) < 1e-5, 'the run’s first step starts from 0 too');
});

test('a few DPO steps lower the loss and raise the reward margin and accuracy', () => {
  const { steps, summary } = result;
  assert.equal(steps.length, 24);
  const head = steps.slice(0, 4);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(
    summary.final_loss < mean(head.map((s) => s.loss)) - 0.1,
    `loss ${head[0].loss} → ${summary.final_loss}`,
  );
  assert.ok(summary.final_margin > 0.2, `final margin ${summary.final_margin}`);
  assert.ok(summary.final_accuracy >= 0.75, `final accuracy ${summary.final_accuracy}`);
  // The whole set re-scored with the trained weights agrees with the training statistics.
  assert.ok(summary.train_set_accuracy >= 0.75, `train-set accuracy ${summary.train_set_accuracy}`);
  assert.ok(summary.logp_chosen_change - summary.logp_rejected_change > 0);
  assert.ok(progress.length >= 5 && progress[0].startsWith('dpo step 1/24'), progress[0]);
});

test('the written version loads, generates, has new weights and no calibrator', async () => {
  const version = await loadVersion(result.versionDir);
  assert.deepEqual(version.config, config);
  assert.equal(version.calibrator, undefined, 'the calibrator is refitted by the caller, never copied');
  assert.ok(!existsSync(join(result.versionDir, 'calibrator.json')));
  const trained = (await loadVersionWeights(result.versionDir)).weights;
  const base = (await loadVersionWeights(baseDir)).weights;
  assert.notDeepEqual(Array.from(trained['dec.wte']), Array.from(base['dec.wte']));
  const sessions = {
    encoder: await OrtSession.create(version.graphs.encoder, { intraOpThreads: 1 }),
    prefill: await OrtSession.create(version.graphs.prefill, { intraOpThreads: 1 }),
    step: await OrtSession.create(version.graphs.step, { intraOpThreads: 1 }),
  };
  const generator = new Generator(sessions, version.config, { eosId: version.tokenizer.eosId });
  const [g] = await generator.generate([
    { image: caseImage(config, 'c0'), promptIds: promptIds(version.tokenizer, QUESTION), maxTokens: 4 },
  ]);
  assert.ok(g.tokens.length >= 1 && g.tokens.every((t) => t.prob > 0 && t.prob <= 1));
  for (const s of Object.values(sessions)) await s.release();
  const card = await readFile(join(result.versionDir, 'model-card.md'), 'utf8');
  assert.match(card, /^# test base/);
  assert.match(card, /Preference optimisation \(DPO\)/);
});

test('dpo-metrics.json holds the config, data counts, summary and TRL-named statistics per step; curves are PNGs with SVGs', async () => {
  const metrics = JSON.parse(await readFile(result.metricsPath, 'utf8'));
  assert.equal(metrics.config.beta, 0.1);
  assert.equal(metrics.config.learningRate, 1e-2);
  assert.equal(metrics.data.used, 8);
  assert.deepEqual(metrics.data.by_kind, { negation: 8 });
  assert.equal(metrics.steps.length, 24);
  for (const s of metrics.steps)
    for (const key of TRL_KEYS) assert.equal(typeof s[key], 'number', `step ${s.step} lacks ${key}`);
  assert.equal(metrics.summary.steps, 24);
  assert.equal(result.plotPaths.length, 4);
  for (const path of result.plotPaths) {
    const bytes = await readFile(path);
    assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from('PNG')], path);
    assert.match(await readFile(path.replace(/\.png$/, '.svg'), 'utf8'), /optimiser step/, path);
  }
});
