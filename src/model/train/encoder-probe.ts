/**
 * Can this encoder see a finding at all? Trains the image encoder and the finding head alone (the head's
 * BCE, no language model), from a version's weights or from random init, optionally with another patch
 * size, and hands the head's logits on validation cases to `onEval` every `evalEvery` steps (the caller
 * scores them by AUROC). A finding that stays near 0.5 here cannot be taught by SFT weights or by
 * preference pairs on top of this encoder: the architecture or the input does not carry it.
 */
import { join } from 'node:path';
import { FINDING_KEYS } from '../../data/types.ts';
import { appendGradients } from '../autodiff/index.ts';
import { Graph, op, toBytes } from '../graph/index.ts';
import { type Feeds, OrtSession, ortTensor } from '../ort/session.ts';
import { ModelBuilder } from '../vlm/layers.ts';
import { rescaleInput } from '../vlm/rescale.ts';
import { loadVersionWeights } from '../vlm/version.ts';
import { encodeImage, findingLogits } from '../vlm/vlm.ts';
import { extendWeights, initWeights, noWeightDecay } from '../vlm/weights.ts';
import { adamWStep, initAdamW } from './adamw.ts';
import { type CaseRow, findingTargets, loadCaseImage, readJsonl } from './dataset.ts';
import { learningRate } from './schedule.ts';

export interface EncoderProbeOptions {
  versionDir: string;
  dataDir: string;
  /** Start from the version's weights (default) or from random weights of its config. */
  randomInit?: boolean;
  /** Another patch size for the same input (random init only: the weights' shapes change). */
  patchSize?: number;
  /** Add a pixel stem to the encoder (VlmConfig.stemSubPatch/stemWidth). */
  stem?: { stemSubPatch: number; stemWidth: number };
  /** A k× larger input with the same patch grid (rescale.ts; the version's weights only). */
  imageSize?: number;
  steps: number;
  lr: number;
  batchSize?: number;
  trainCases: number;
  valCases: number;
  evalEvery: number;
  seed?: number;
  threads?: number;
  onEval: (step: number, logits: Float32Array, cases: readonly ProbeCase[]) => void;
  onStep?: (step: number, loss: number) => void;
}

export interface ProbeCase {
  labels: Float32Array;
  mask: Float32Array;
}

interface LoadedCases {
  images: Float32Array[];
  targets: ProbeCase[];
}

async function loadCases(dataDir: string, split: string, n: number, size: number): Promise<LoadedCases> {
  const rows = (await readJsonl<CaseRow>(join(dataDir, 'cases', `${split}.jsonl`))).slice(0, n);
  const images: Float32Array[] = [];
  for (const row of rows) images.push(await loadCaseImage(dataDir, row, size));
  return { images, targets: rows.map((row) => findingTargets(row.findings)) };
}

export async function trainEncoderProbe(o: EncoderProbeOptions): Promise<void> {
  const version = await loadVersionWeights(o.versionDir);
  if (o.imageSize && o.randomInit)
    throw new Error('another input size carries the version’s weights: no random init');
  const loaded = o.imageSize ? rescaleInput(version.config, version.weights, o.imageSize) : version;
  if (!loaded.config.findingHead) throw new Error(`${o.versionDir}: this model has no finding head`);
  if (o.patchSize && !o.randomInit) throw new Error('another patch size needs random init');
  const config = { ...loaded.config, ...(o.patchSize ? { patchSize: o.patchSize } : {}), ...o.stem };
  const start = o.randomInit
    ? initWeights(config, o.seed ?? 1)
    : extendWeights(config, loaded.weights, o.seed ?? 1);
  const size = config.imageSize;
  const f = FINDING_KEYS.length;

  const g = new Graph('chexpo_encoder_probe');
  const m = new ModelBuilder(g, config);
  const image = g.input('image', m.dtype, ['batch', 1, size, size]);
  const labels = g.input('finding_labels', m.dtype, ['batch', f]);
  const mask = g.input('finding_mask', m.dtype, ['batch', f]);
  const logits = findingLogits(m, encodeImage(m, image).patchFeatures);
  const bce = op.sub(op.softplus(logits), op.mul(labels, logits));
  const loss = op.div(
    op.reduceSum(op.mul(bce, mask), { keepdims: false }),
    op.reduceSum(mask, { keepdims: false }),
  );
  g.output(logits, 'finding_logits');
  g.output(loss, 'loss');
  const params = m.parameters;
  const grads = appendGradients(g, loss, params, {});
  for (const p of params) g.output(grads.get(p.name)!, `grad.${p.name}`);
  const session = await OrtSession.create(toBytes(g, { parametersAs: 'inputs' }), {
    intraOpThreads: o.threads ?? 1,
  });
  const weights = Object.fromEntries(params.map((p) => [p.name, Float32Array.from(start[p.name])]));

  const train = await loadCases(o.dataDir, 'train', o.trainCases, size);
  const val = await loadCases(o.dataDir, 'validation', o.valCases, size);
  const feeds = (d: LoadedCases, idx: readonly number[]): Feeds => {
    const im = new Float32Array(idx.length * size * size);
    const lab = new Float32Array(idx.length * f);
    const msk = new Float32Array(idx.length * f);
    idx.forEach((j, i) => {
      im.set(d.images[j], i * size * size);
      lab.set(d.targets[j].labels, i * f);
      msk.set(d.targets[j].mask, i * f);
    });
    const out: Feeds = {
      image: ortTensor('float32', im, [idx.length, 1, size, size]),
      finding_labels: ortTensor('float32', lab, [idx.length, f]),
      finding_mask: ortTensor('float32', msk, [idx.length, f]),
    };
    for (const p of params) out[p.name] = ortTensor('float32', weights[p.name], p.shape as number[]);
    return out;
  };
  const evaluate = async (step: number): Promise<void> => {
    const all = new Float32Array(val.images.length * f);
    for (let i = 0; i < val.images.length; i += 64) {
      const idx = Array.from({ length: Math.min(64, val.images.length - i) }, (_, k) => i + k);
      const out = await session.run(feeds(val, idx), ['finding_logits']);
      all.set(out.finding_logits.data as Float32Array, i * f);
    }
    o.onEval(step, all, val.targets);
  };

  const batch = o.batchSize ?? 64;
  const optimizer = initAdamW(weights);
  const schedule = {
    peak: o.lr,
    warmupSteps: Math.min(100, Math.ceil(o.steps / 10)),
    totalSteps: o.steps,
    minRatio: 0.1,
  };
  let state = (o.seed ?? 1) >>> 0 || 1;
  const draw = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % train.images.length;
  };
  try {
    await evaluate(0);
    for (let step = 1; step <= o.steps; step++) {
      const idx = Array.from({ length: batch }, draw);
      const out = await session.run(feeds(train, idx), ['loss', ...params.map((p) => `grad.${p.name}`)]);
      const gradients = Object.fromEntries(
        params.map((p) => [p.name, out[`grad.${p.name}`].data as Float32Array]),
      );
      adamWStep(weights, gradients, optimizer, learningRate(step - 1, schedule), undefined, noWeightDecay);
      o.onStep?.(step, (out.loss.data as Float32Array)[0]);
      if (step % o.evalEvery === 0 || step === o.steps) await evaluate(step);
    }
  } finally {
    await session.release();
  }
}
