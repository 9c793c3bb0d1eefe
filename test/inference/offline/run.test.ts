import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { evalCommand } from '../../../src/cli/eval.ts';
import { decodeImage, toModelInput } from '../../../src/data/image/index.ts';
import { Rng } from '../../../src/data/random.ts';
import { synthesize } from '../../../src/data/synth/run.ts';
import { evaluate, formatEvalTable, RiskCalibrator } from '../../../src/eval/index.ts';
import {
  caseInput,
  fitCalibration,
  openVersion,
  readSplit,
  runSplit,
} from '../../../src/inference/offline/index.ts';
import { oodScorer } from '../../../src/inference/ood/index.ts';
import { OPERATING_POINT_FILE, THRESHOLD_GRID } from '../../../src/inference/operating-point.ts';
import { TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import { loadVersion, writeVersion } from '../../../src/model/vlm/version.ts';
import { initWeights } from '../../../src/model/vlm/weights.ts';
import { REAL_CR_DICOM } from '../../fixtures/paths.ts';
import { jitteredWeights } from '../../model/vlm/helpers.ts';

let root: string;
let dataDir: string;
let versionDir: string;
let config: VlmConfig;
const MAX_TOKENS = 6;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chexpo-evalrun-'));
  dataDir = join(root, 'data');
  versionDir = join(root, 'version');
  // 14 cases of seed 1: 10 train, 2 validation (20 samples), 2 test (15 samples), every task.
  const { tokenizer } = await synthesize({
    cases: 14,
    seed: 1,
    outDir: dataDir,
    size: 64,
    formats: ['png16'],
    workers: 1,
  });
  config = { ...TEST_TINY, vocabSize: tokenizer.vocabSize, maxSeqLen: 32 };
  const weights = jitteredWeights(initWeights(config, 3), 0.3, 3);
  await writeVersion(versionDir, { config, weights, tokenizer, modelCard: '# random test model\n' });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('runSplit: one prediction per test sample, with confidences; evaluate and the table work on them', async () => {
  const { samples, cases } = await readSplit(dataDir, 'test');
  const predictions = await runSplit(versionDir, dataDir, 'test', { batchSize: 4, maxTokens: MAX_TOKENS });
  assert.deepEqual(predictions.map((p) => p.sample_id).sort(), samples.map((s) => s.id).sort());
  for (const p of predictions) {
    assert.ok(
      p.answer_prob >= 0 && p.answer_prob <= 1 && p.min_prob <= 1 && p.mean_logprob <= 0,
      JSON.stringify(p),
    );
    assert.equal(p.ood, 0, 'no ood.json yet');
    assert.equal(p.risk, undefined, 'no calibrator yet');
    // The tokenizer saw 10 training cases only, so held-out questions may have unseen words.
    assert.ok(p.unknown_word_rate >= 0 && p.unknown_word_rate <= 1);
  }
  // Batching and grouping by image do not change answers.
  const one = await runSplit(versionDir, dataDir, 'test', { batchSize: 1, maxTokens: MAX_TOKENS });
  const byId = new Map(one.map((p) => [p.sample_id, p]));
  for (const p of predictions) {
    assert.equal(p.text, byId.get(p.sample_id)!.text);
    assert.ok(Math.abs(p.mean_logprob - byId.get(p.sample_id)!.mean_logprob) < 1e-4);
  }
  const result = evaluate(samples, predictions, { cases, resamples: 20 });
  assert.equal(result.n_samples, samples.length);
  const table = formatEvalTable(result);
  assert.match(table, new RegExp(`^${samples.length} samples from ${cases.length} cases`));
  assert.match(table, /hallucination rate/);
});

test('runSplit --limit takes whole cases in a seeded order', async () => {
  const { samples } = await readSplit(dataDir, 'test');
  const firstCase = samples.filter((s) => s.case_id === samples[0].case_id).length;
  const a = await runSplit(versionDir, dataDir, 'test', { limit: 3, seed: 4, maxTokens: 2 });
  const b = await runSplit(versionDir, dataDir, 'test', { limit: 3, seed: 4, maxTokens: 2 });
  assert.equal(a.length, Math.min(3, samples.length));
  assert.deepEqual(
    a.map((p) => p.sample_id),
    b.map((p) => p.sample_id),
  );
  assert.ok(firstCase > 0);
  assert.equal(new Set(a.map((p) => samples.find((s) => s.id === p.sample_id)!.case_id)).size, 1);
});

test('fitCalibration writes calibrator.json and ood.json; later runs carry risk and OOD scores', async () => {
  const fitted = await fitCalibration(versionDir, dataDir, {
    batchSize: 8,
    maxTokens: MAX_TOKENS,
    referenceImages: 64,
  });
  const version = await loadVersion(versionDir);
  assert.deepEqual(version.calibrator, fitted.calibrator);
  const validationSamples = (await readSplit(dataDir, 'validation')).samples.length;
  assert.equal(RiskCalibrator.fromJSON(version.calibrator).toJSON().fitted_on, validationSamples);
  assert.equal(fitted.ood.fitted_on.reference, 10);
  assert.equal(fitted.ood.fitted_on.held_out, 2);
  // The detector the engine serves with reads the same file.
  assert.equal(fitted.ood.schema, 'chexpo.ood/2');
  assert.equal(fitted.ood.flag_quantile, 0.95);
  assert.equal(typeof oodScorer(version.ood, config.embeddingDim), 'function');
  assert.ok(Number.isFinite(fitted.quality.brier));

  const predictions = await runSplit(versionDir, dataDir, 'test', { batchSize: 8, maxTokens: MAX_TOKENS });
  for (const p of predictions) {
    assert.ok(p.risk !== undefined && p.risk > 0 && p.risk < 1, `risk ${p.risk}`);
    assert.ok(p.ood >= 0 && p.ood <= 1);
  }
});

test('fitCalibration fits the operating point on request; openVersion serves its bias and refuses a bad file', async () => {
  const dir = join(root, 'with-operating-point');
  await cp(versionDir, dir, { recursive: true });
  const fitted = await fitCalibration(dir, dataDir, {
    batchSize: 8,
    maxTokens: MAX_TOKENS,
    referenceImages: 16,
    operatingPoint: { maxAdversarialYes: 1, maxClosedHallucination: 1 },
  });
  const written = JSON.parse(await readFile(join(dir, OPERATING_POINT_FILE), 'utf8'));
  const op = fitted.operatingPoint;
  assert.ok(op);
  assert.deepEqual(written, op);
  assert.equal(written.closed_yes_threshold, 0.5, 'limits any answer meets keep the model its own argmax');
  assert.equal(written.fitted.samples, (await readSplit(dataDir, 'validation')).samples.length);
  assert.equal(written.table.length, THRESHOLD_GRID.length);
  const plain = await openVersion(dir);
  assert.equal(plain.answerBias, undefined, 'threshold 0.5 is no bias');
  await plain.close();
  await writeFile(join(dir, OPERATING_POINT_FILE), JSON.stringify({ ...written, closed_yes_threshold: 0.9 }));
  const biased = await openVersion(dir);
  assert.equal(typeof biased.answerBias, 'function');
  await biased.close();
  await writeFile(join(dir, OPERATING_POINT_FILE), JSON.stringify({ closed_yes_threshold: 2 }));
  await assert.rejects(openVersion(dir), { code: 'CHEXPO_ERR_EVALRUN_BAD_OPERATING_POINT' });
});

test('OOD mechanics on the random model: noise and shifted images score above the held-out images', async () => {
  const model = await openVersion(versionDir);
  try {
    assert.ok(model.ood, 'fitCalibration (the previous test) wrote ood.json');
    const ood = model.ood;
    const { cases } = await readSplit(dataDir, 'validation');
    const inputs = await Promise.all(cases.map((c) => caseInput(dataDir, c, config.imageSize)));
    const rng = Rng.derive(9, 'noise');
    const noise = Float32Array.from({ length: config.imageSize ** 2 }, () => rng.normal(0, 2));
    const shifted = inputs[0].map((v) => v + 3);
    const real = toModelInput(decodeImage(new Uint8Array(readFileSync(REAL_CR_DICOM))), config.imageSize);
    const all = [...inputs, noise, shifted, real];
    const { embeddings } = await model.generator.encodeImages(all);
    const scores = all.map((x, i) => ood.score(embeddings[i], x));
    const held = Math.max(...scores.slice(0, inputs.length));
    const [noiseScore, shiftedScore, realScore] = scores.slice(inputs.length);
    assert.ok(noiseScore > held && noiseScore > 0.9, `noise ${noiseScore} vs held-out max ${held}`);
    assert.ok(shiftedScore > held && shiftedScore > 0.9, `shifted ${shiftedScore} vs held-out max ${held}`);
    assert.ok(realScore >= 0 && realScore <= 1);
  } finally {
    await model.close();
  }
});

test('chexpo eval prints the table, writes the JSON record with predictions and the plots', async () => {
  const out = join(root, 'eval.json');
  const plots = join(root, 'eval-plots');
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(' '));
  try {
    await evalCommand([
      '--model',
      versionDir,
      '--data',
      dataDir,
      '--split',
      'validation',
      '--max-tokens',
      String(MAX_TOKENS),
      '--resamples',
      '20',
      '--json',
      out,
      '--plots',
      plots,
      '--quiet',
      '--visibility-cases',
      '1',
    ]);
  } finally {
    console.log = log;
  }
  const text = lines.join('\n');
  const n = (await readSplit(dataDir, 'validation')).samples.length;
  assert.match(
    text,
    new RegExp(`${n} samples from 2 cases; 95 % case-bootstrap intervals \\(20 resamples, seed 0\\)`),
  );
  // The controls follow the table: permuted images, the blind baselines and the visibility table.
  assert.match(text, /model, images permuted across cases/);
  assert.match(text, /question only \/ constant list and report/);
  assert.match(text, /visibility at 16 px \(1 phantoms per finding/);
  const record = JSON.parse(await readFile(out, 'utf8'));
  assert.equal(record.schema, 'chexpo.eval/1');
  assert.equal(record.n_samples, n);
  assert.equal(record.predictions.length, n);
  assert.equal(record.controls.permuted.n_samples, n);
  for (const file of ['reliability', 'per-finding']) {
    const png = await readFile(join(plots, `${file}.png`));
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')], file);
    assert.ok(png.length > 1000, file);
  }
  assert.match(await readFile(join(plots, 'reliability.svg'), 'utf8'), /answer confidence/);
  assert.match(await readFile(join(plots, 'per-finding.svg'), 'utf8'), /images permuted across cases/);
  assert.equal(record.controls.visibility.length, 12);
  await assert.rejects(evalCommand(['--model', versionDir]), /--data DIR are required/);
  await assert.rejects(evalCommand(['--model', versionDir, '--data', dataDir, '--split', 'dev']), /--split/);
});
