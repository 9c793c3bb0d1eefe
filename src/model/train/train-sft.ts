/**
 * One SFT run of chexpo-tiny (`chexpo train sft`): the tokenizer and samples of a data set (or the
 * tokenizer of the version `init` continues), weights fresh or from that version, the training loop
 * with a validation NLL per epoch, then OUT/metrics.json, OUT/checkpoint.safetensors and OUT/version.
 * Progress goes to `events`, which the command draws.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '../../data/tokenizer/index.ts';
import { CHEXPO_TINY, CHEXPO_TINY_128, EXTENSION_FIELDS, TEST_TINY, type VlmConfig } from '../vlm/config.ts';
import { rescaleInput } from '../vlm/rescale.ts';
import { loadVersionWeights, writeVersion } from '../vlm/version.ts';
import { countParameters, extendWeights, initWeights, noWeightDecay, type Weights } from '../vlm/weights.ts';
import { loadSplit, oversampleTasks, parseFindingWeights, parseOversample } from './dataset.ts';
import { modelCard } from './model-card.ts';
import { runTraining, type StepLog } from './run-training.ts';
import { parameterShapes, SplitScorer, sftProgram } from './sft.ts';

export interface TrainSftOptions {
  /** A data set directory (`chexpo synth` or `chexpo import`). */
  data: string;
  /** The run directory. */
  out: string;
  epochs: number;
  batchSize: number;
  /** Peak learning rate (linear warm-up, cosine decay to 10%). */
  lr: number;
  warmupSteps: number;
  /** The first this many training cases only. */
  maxCases?: number;
  /** Validation cases for the per-epoch loss. */
  valCases: number;
  /** Stop after this many steps (checkpointed; `resume` continues). */
  maxSteps?: number;
  resume: boolean;
  /** tiny, tiny128 or test; unused with `init`. */
  model: string;
  /** A version directory to start from (same config) instead of random weights. */
  init?: string;
  /** With `init`: extend its encoder with a pixel stem (VlmConfig.stemSubPatch/stemWidth). */
  stem?: { stemSubPatch: number; stemWidth: number };
  /** With `init`: the decoder reads the finding head (VlmConfig.findingEvidence). */
  findingEvidence?: boolean;
  /** With `init`: a k× larger input with the same patch grid (rescale.ts). */
  imageSize?: number;
  /** e.g. report=3,abnormality_list=2 (parseOversample). */
  oversample: string;
  findingLoss: number;
  /** e.g. central_line=4,nodule=4 (parseFindingWeights); empty: every finding weighs 1. */
  findingWeights?: string;
  answerWeight: number;
  threads: number;
  seed: number;
  /** The command line recorded in metrics.json and the model card. */
  command: string;
}

export interface EpochLog {
  epoch: number;
  step: number;
  valNll: number;
}

export interface SftRunEvents {
  /** The data is loaded. */
  loaded?(info: {
    parameters: number;
    trainSamples: number;
    trainCases: number;
    tooLong: number;
    validationSamples: number;
  }): void;
  /** Training starts: `steps` of `totalSteps` will run. */
  started?(steps: number, totalSteps: number): void;
  step?(log: StepLog, totalSteps: number): void;
  epoch?(epoch: number, valNll: number): void;
  /**
   * Training ended: awaited after OUT/metrics.json is written and before OUT/version (the command
   * plots the loss here).
   */
  trained?(run: { steps: StepLog[]; epochs: EpochLog[] }): Promise<void>;
}

export interface SftRunResult {
  versionDir: string;
  minutes: number;
}

export async function trainSft(o: TrainSftOptions, events: SftRunEvents = {}): Promise<SftRunResult> {
  const started = performance.now();
  // A model's vocabulary travels with it: continuing one tokenises new data with the model's own map.
  const tokenizer = Tokenizer.fromJSON(
    JSON.parse(await readFile(join(o.init ?? o.data, 'tokenizer.json'), 'utf8')),
  );
  const parent = o.init ? await parentWeights(o.init, o.imageSize) : undefined;
  const config: VlmConfig = parent
    ? { ...parent.config, ...o.stem, ...(o.findingEvidence ? { findingEvidence: true } : {}) }
    : { ...modelBase(o.model), vocabSize: tokenizer.vocabSize };
  const { seed, batchSize, epochs, threads } = o;
  const loadOptions = { tokenizer, imageSize: config.imageSize, maxSeqLen: config.maxSeqLen };
  const train = oversampleTasks(
    await loadSplit(o.data, 'train', {
      ...loadOptions,
      maxCases: o.maxCases,
      answerWeight: o.answerWeight,
      findingWeights: parseFindingWeights(o.findingWeights ?? ''),
    }),
    parseOversample(o.oversample),
  );
  const validation = await loadSplit(o.data, 'validation', { ...loadOptions, maxCases: o.valCases });
  events.loaded?.({
    parameters: countParameters(config),
    trainSamples: train.examples.length,
    trainCases: train.images.size,
    tooLong: train.tooLong,
    validationSamples: validation.examples.length,
  });

  await mkdir(o.out, { recursive: true });
  const program = sftProgram(config, train, batchSize, seed, o.findingLoss);
  const totalSteps = program.batches(0).length * epochs;
  const scorer = await SplitScorer.create(config, threads);
  const epochLog: EpochLog[] = [];
  const steps: StepLog[] = [];
  events.started?.(o.maxSteps ? Math.min(totalSteps, o.maxSteps) : totalSteps, totalSteps);
  const weights = parent ? initialWeights(parent, config, seed) : initWeights(config, seed);
  await runTraining(program, {
    params: weights,
    shapes: parameterShapes(config),
    epochs,
    schedule: { peak: o.lr, warmupSteps: o.warmupSteps, minRatio: 0.1, totalSteps },
    noDecay: noWeightDecay,
    maxSteps: o.maxSteps,
    checkpointPath: join(o.out, 'checkpoint.safetensors'),
    checkpointEvery: 200,
    resume: o.resume,
    intraOpThreads: threads,
    meta: { config, seed, data: o.data, batchSize, epochs },
    onStep: (log) => {
      steps.push(log);
      events.step?.(log, totalSteps);
    },
    onEpochEnd: async (epoch, params) => {
      const valNll = await scorer.meanNll(validation, params);
      epochLog.push({ epoch, step: steps.at(-1)?.step ?? 0, valNll });
      events.epoch?.(epoch, valNll);
    },
  });
  await scorer.release();

  const minutes = (performance.now() - started) / 60000;
  const { command } = o;
  const metrics = {
    command,
    parameters: countParameters(config),
    trainSamples: train.examples.length,
    steps: steps.map((s) => ({
      step: s.step,
      loss: s.loss,
      lr: s.lr,
      gradNorm: s.gradNorm,
      ms: s.ms,
      tokens: s.tokens,
    })),
    epochs: epochLog,
    minutes,
  };
  await writeFile(join(o.out, 'metrics.json'), `${JSON.stringify(metrics)}\n`);
  await events.trained?.({ steps, epochs: epochLog });
  const versionDir = join(o.out, 'version');
  await writeVersion(versionDir, {
    config,
    weights,
    tokenizer,
    modelCard: modelCard({
      name: 'chexpo-tiny',
      config,
      parameters: countParameters(config),
      data: { dir: o.data, trainSamples: train.examples.length, trainCases: train.images.size },
      training: { command, steps: steps.length, epochs, minutes, finalValNll: epochLog.at(-1)?.valNll },
    }),
  });
  return { versionDir, minutes };
}

function modelBase(name: string): VlmConfig {
  // The test model keeps TEST_TINY's widths but must fit real sample lengths.
  if (name === 'test') return { ...TEST_TINY, maxSeqLen: CHEXPO_TINY.maxSeqLen };
  if (name === 'tiny128') return CHEXPO_TINY_128;
  if (name === 'tiny') return CHEXPO_TINY;
  throw new Error(`--model ${name}: expected tiny, tiny128 or test`);
}

/** The version to continue from, carried to a larger input when asked (rescale.ts). */
async function parentWeights(versionDir: string, imageSize: number | undefined) {
  const loaded = await loadVersionWeights(versionDir);
  return imageSize ? rescaleInput(loaded.config, loaded.weights, imageSize) : loaded;
}

/**
 * Weights of the version to continue from; its config must equal the one being trained, but for the
 * extensions this run adds (EXTENSION_FIELDS: a pixel stem, the finding evidence; starting at zero).
 */
function initialWeights(parent: { config: VlmConfig; weights: Weights }, config: VlmConfig, seed: number) {
  if (JSON.stringify(parent.config) === JSON.stringify(config)) return parent.weights;
  const extendable = new Set<string>(EXTENSION_FIELDS);
  const shared = Object.entries(parent.config).every(
    ([key, value]) => (config as unknown as Record<string, unknown>)[key] === value,
  );
  const added = Object.keys(config).filter((key) => !(key in parent.config));
  if (shared && added.every((key) => extendable.has(key))) return extendWeights(config, parent.weights, seed);
  throw new Error(`--init: the version's config differs from this run's (model size or vocabulary)`);
}
