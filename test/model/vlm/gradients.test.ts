import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import { RULES } from '../../../src/model/autodiff/index.ts';
import { op, toBytes } from '../../../src/model/graph/index.ts';
import { ortTensor } from '../../../src/model/ort/session.ts';
import { TEST_TINY } from '../../../src/model/vlm/config.ts';
import { buildDpoGraph, buildSftGraph } from '../../../src/model/vlm/training.ts';
import { initWeights, parameterSpecs } from '../../../src/model/vlm/weights.ts';
import {
  checkParameterGradients,
  FLOAT64_TOLERANCE,
  jitteredWeights,
  randomImages,
  randomSequence,
  sequenceFeeds,
  trainingSession,
} from './helpers.ts';

const config = TEST_TINY;
const weights = jitteredWeights(initWeights(config, 3), 0.2, 3);
const rng = Rng.derive(5, 'gradients');
const seqs = [randomSequence(config, 7, 4, rng), randomSequence(config, 7, 2, rng)];
const images = randomImages(config, 2, 5);

/** A few coordinates of one parameter of every kind (the LM head is tied to dec.wte). */
function picks(names: readonly string[], perParam: number, seed: number): Record<string, number[]> {
  const r = Rng.derive(seed, 'picks');
  const sizes = new Map(parameterSpecs(config).map((s) => [s.name, s.shape.reduce((a, b) => a * b, 1)]));
  return Object.fromEntries(
    names.map((n) => [n, Array.from({ length: perParam }, () => r.int(0, sizes.get(n)! - 1))]),
  );
}

const EVERY_KIND = [
  'enc.patch.weight', // patch embedding
  'enc.patch.bias',
  'enc.pos',
  'enc.blocks.0.attn.qkv.weight', // encoder attention
  'enc.blocks.0.attn.proj.bias',
  'enc.blocks.0.mlp.fc.weight', // encoder MLP (GELU)
  'enc.blocks.0.mlp.proj.weight',
  'enc.blocks.0.ln1.weight', // layer norms
  'enc.ln_f.bias',
  'dec.blocks.0.ln2.bias',
  'dec.ln_f.weight',
  'proj.fc1.weight', // projector
  'proj.fc2.bias',
  'dec.wte', // token embedding and tied LM head
  'dec.blocks.0.attn.qkv.weight', // decoder attention
  'dec.blocks.0.attn.proj.weight',
  'dec.blocks.0.mlp.fc.bias', // decoder MLP
  'dec.blocks.0.mlp.proj.weight',
];

async function sftCheck(rules?: typeof RULES) {
  const g = buildSftGraph(config, { dtype: 'float64', gelu: 'tanh', rules });
  const session = await trainingSession(toBytes(g, { parametersAs: 'inputs' }));
  const data = sequenceFeeds(config, images, seqs, '', 'float64');
  // Rows 0..6 of the position table are used, row 15 is not (its gradient must be exactly 0).
  const all = { ...picks(EVERY_KIND, 3, 11), 'dec.wpe': [2, 16 * 3 + 5, 15 * 16 + 1] };
  const report = await checkParameterGradients(
    session,
    config,
    weights,
    data,
    all,
    'float64',
    FLOAT64_TOLERANCE,
  );
  await session.release();
  return report;
}

test('SFT loss: the whole-model gradient matches central differences on every kind of parameter (float64)', async () => {
  const report = await sftCheck();
  assert.deepEqual(report.failures, []);
  assert.ok(report.checked >= 3 * EVERY_KIND.length, `checked ${report.checked}`);
});

test('the whole-model check catches a planted error in one rule (Softmax, used only by attention)', async () => {
  const wrong = {
    ...RULES,
    Softmax: (_c: never, n: { outputs: readonly unknown[] }, dy: never) => [
      op.mul(dy, n.outputs[0] as never),
    ],
  };
  const report = await sftCheck(wrong as unknown as typeof RULES);
  assert.ok(report.failures.length > 0, 'a wrong softmax gradient went unnoticed');
  assert.ok(
    report.failures.some((f) => f.includes('attn')),
    report.failures.join('\n'),
  );
});

test('SFT loss with the exact (erf) GELU: gradient matches central differences in float32 (stated tolerance)', async () => {
  const g = buildSftGraph(config);
  const session = await trainingSession(toBytes(g, { parametersAs: 'inputs' }));
  const data = sequenceFeeds(config, images, seqs);
  // float32: step 1e-2 bounds truncation (~eps²) and round-off (~1e-7·loss/eps) to ~1e-5 absolute.
  const tol = { eps: 1e-2, rtol: 2e-2, atol: 5e-5 };
  const names = [
    'enc.blocks.0.mlp.fc.weight',
    'proj.fc1.weight',
    'dec.blocks.0.mlp.fc.weight',
    'dec.blocks.0.mlp.fc.bias',
  ];
  const report = await checkParameterGradients(
    session,
    config,
    weights,
    data,
    picks(names, 3, 13),
    'float32',
    tol,
  );
  await session.release();
  assert.deepEqual(report.failures, []);
});

test('DPO loss: gradient matches central differences (sigmoid with label smoothing and an SFT term, float64)', async () => {
  const g = buildDpoGraph(
    config,
    { beta: 0.5, lossType: 'sigmoid', labelSmoothing: 0.1, sftWeight: 0.5 },
    { dtype: 'float64', gelu: 'tanh' },
  );
  const session = await trainingSession(toBytes(g, { parametersAs: 'inputs' }));
  const r = Rng.derive(6, 'dpo-grad');
  const rejected = [randomSequence(config, 5, 3, r), randomSequence(config, 5, 2, r)];
  const data = {
    ...sequenceFeeds(config, images, seqs, 'chosen.', 'float64'),
    ...sequenceFeeds(config, randomImages(config, 2, 9), rejected, 'rejected.', 'float64'),
    ref_chosen_logprob: ortTensor('float64', Float64Array.from([-12, -7]), [2]),
    ref_rejected_logprob: ortTensor('float64', Float64Array.from([-9, -6.5]), [2]),
    pair_weight: ortTensor('float64', Float64Array.from([1, 0.5]), [2]),
  };
  const names = [
    'enc.patch.weight',
    'enc.blocks.0.attn.qkv.weight',
    'proj.fc2.weight',
    'dec.wte',
    'dec.blocks.0.mlp.proj.weight',
    'dec.ln_f.bias',
  ];
  const report = await checkParameterGradients(
    session,
    config,
    weights,
    data,
    picks(names, 3, 17),
    'float64',
    FLOAT64_TOLERANCE,
  );
  await session.release();
  assert.deepEqual(report.failures, []);
});

/**
 * Float64 SFT-gradient check of three coordinates each of `names`, for a config variant and its own
 * jittered weights (so zero-initialised parameters are not zero and everything upstream gets gradient).
 */
async function variantCheck(
  variant: typeof config,
  names: readonly string[],
  extraFeeds: Record<string, ReturnType<typeof ortTensor>>,
  findingLossWeight: number,
  seed: number,
) {
  const g = buildSftGraph(variant, { dtype: 'float64', gelu: 'tanh', findingLossWeight });
  const session = await trainingSession(toBytes(g, { parametersAs: 'inputs' }));
  const data = { ...sequenceFeeds(variant, images, seqs, '', 'float64'), ...extraFeeds };
  const sizes = new Map(parameterSpecs(variant).map((s) => [s.name, s.shape.reduce((a, b) => a * b, 1)]));
  const r = Rng.derive(seed, 'variant-picks');
  const chosen = Object.fromEntries(
    names.map((n) => [n, Array.from({ length: 3 }, () => r.int(0, sizes.get(n)! - 1))]),
  );
  const variantWeights = jitteredWeights(initWeights(variant, 3), 0.2, 3);
  const report = await checkParameterGradients(
    session,
    variant,
    variantWeights,
    data,
    chosen,
    'float64',
    FLOAT64_TOLERANCE,
  );
  await session.release();
  assert.deepEqual(report.failures, []);
  assert.ok(report.checked >= 3 * names.length, `checked ${report.checked}`);
}

test('SFT loss with the finding head: the BCE term’s gradient matches central differences (float64)', async () => {
  const labels = {
    finding_labels: ortTensor('float64', Float64Array.from([1, 0, 1, 0, 0, 1]), [2, 3]),
    // One unknown label per row: it must not contribute.
    finding_mask: ortTensor('float64', Float64Array.from([1, 1, 0, 1, 0, 1]), [2, 3]),
  };
  const names = [
    'enc.findings.weight',
    'enc.findings.bias',
    'enc.patch.weight',
    'enc.blocks.0.mlp.fc.weight',
  ];
  await variantCheck({ ...config, findingHead: 3 }, names, labels, 0.7, 21);
});

test('SFT loss with the pixel stem: its gradient matches central differences (float64)', async () => {
  const names = ['enc.stem.fc.weight', 'enc.stem.fc.bias', 'enc.stem.proj.weight', 'enc.stem.proj.bias'];
  await variantCheck({ ...config, stemSubPatch: 2, stemWidth: 3 }, names, {}, 0, 23);
});

test('SFT loss with the finding evidence read by the decoder: gradients through both paths (float64)', async () => {
  const labels = {
    finding_labels: ortTensor('float64', Float64Array.from([1, 0, 1, 0, 0, 1]), [2, 3]),
    finding_mask: ortTensor('float64', Float64Array.from([1, 1, 1, 1, 1, 1]), [2, 3]),
  };
  // enc.findings gets gradient from the BCE and, through proj.findings, from the token NLL.
  const names = ['proj.findings.weight', 'proj.findings.bias', 'enc.findings.weight', 'enc.findings.bias'];
  await variantCheck({ ...config, findingHead: 3, findingEvidence: true }, names, labels, 0.7, 25);
});
