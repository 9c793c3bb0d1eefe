import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Tokenizer } from '../data/tokenizer/index.ts';
import { loadSplit, oversampleTasks, parseOversample } from '../model/train/dataset.ts';
import { runTraining, type StepLog } from '../model/train/loop.ts';
import { modelCard } from '../model/train/model-card.ts';
import { parameterShapes, SplitScorer, sftProgram } from '../model/train/sft.ts';
import { CHEXPO_TINY, CHEXPO_TINY_128, TEST_TINY, type VlmConfig } from '../model/vlm/config.ts';
import { loadVersionWeights, writeVersion } from '../model/vlm/version.ts';
import { countParameters, initWeights, noWeightDecay } from '../model/vlm/weights.ts';
import { writePlot } from '../plots/render.ts';
import { sftLossSpec } from '../plots/training.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo train sft --data DIR --out RUN_DIR [options]

Trains chexpo-tiny on a data set from 'chexpo synth' or 'chexpo import' and writes RUN_DIR/version (a model
version directory), RUN_DIR/metrics.json, RUN_DIR/loss.png (+ .svg) and RUN_DIR/checkpoint.safetensors.
  --epochs N        passes over the training samples (default 1)
  --batch N         sequences per step (default 16)
  --lr X            peak learning rate (default 1e-3; linear warm-up, cosine decay to 10%)
  --warmup N        warm-up steps (default 100)
  --max-cases N     use the first N training cases only
  --val-cases N     validation cases for the per-epoch loss (default 200)
  --max-steps N     stop after N steps (checkpointed; --resume continues)
  --resume          continue from RUN_DIR/checkpoint.safetensors
  --init DIR        start from the weights of a version directory (same config) instead of random
  --oversample T=K  repeat samples of task T K times per epoch, e.g. report=3,abnormality_list=2
  --model NAME      tiny (CHEXPO_TINY, 64 px), tiny128 (128 px with the finding head) or test (default tiny)
  --answer-weight W loss weight of answer-bearing tokens (short answers; finding words of reports; default 1)
  --finding-loss W  weight of the finding head's BCE beside SFT (default 0.5; models with the head only)
  --threads N       ORT intra-op threads (default: all cores)
  --seed S          weight init and batch order (default 1)`;

export async function trainCommand(argv: string[]): Promise<void> {
  const [kind, ...rest] = argv;
  if (kind !== 'sft') {
    console.log(HELP);
    if (kind && kind !== '--help')
      throw new UsageError(`unknown training kind '${kind}' (DPO runs through 'chexpo loop')`);
    return;
  }
  const { values } = parseCommandArgs(HELP, {
    args: rest,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string', default: '1' },
      batch: { type: 'string', default: '16' },
      lr: { type: 'string', default: '1e-3' },
      warmup: { type: 'string', default: '100' },
      'max-cases': { type: 'string' },
      'val-cases': { type: 'string', default: '200' },
      'max-steps': { type: 'string' },
      resume: { type: 'boolean', default: false },
      model: { type: 'string', default: 'tiny' },
      threads: { type: 'string' },
      seed: { type: 'string', default: '1' },
      init: { type: 'string' },
      oversample: { type: 'string' },
      'finding-loss': { type: 'string', default: '0.5' },
      'answer-weight': { type: 'string', default: '1' },
    },
  });
  if (!values.data || !values.out) throw new UsageError(`--data and --out are required\n\n${HELP}`);
  const started = performance.now();
  // A model's vocabulary travels with it: continuing one tokenises new data with the model's own map.
  const tokenizer = Tokenizer.fromJSON(
    JSON.parse(await readFile(join(values.init ?? values.data, 'tokenizer.json'), 'utf8')),
  );
  const config: VlmConfig = values.init
    ? (await loadVersionWeights(values.init)).config
    : { ...modelBase(values.model), vocabSize: tokenizer.vocabSize };
  const seed = Number(values.seed);
  const batchSize = Number(values.batch);
  const epochs = Number(values.epochs);
  const threads = values.threads ? Number(values.threads) : availableParallelism();
  const loadOptions = { tokenizer, imageSize: config.imageSize, maxSeqLen: config.maxSeqLen };
  const maxCases = values['max-cases'] ? Number(values['max-cases']) : undefined;
  const train = oversampleTasks(
    await loadSplit(values.data, 'train', {
      ...loadOptions,
      maxCases,
      answerWeight: Number(values['answer-weight']),
    }),
    parseOversample(values.oversample ?? ''),
  );
  const validation = await loadSplit(values.data, 'validation', {
    ...loadOptions,
    maxCases: Number(values['val-cases']),
  });
  console.log(
    `chexpo-tiny ${countParameters(config).toLocaleString('en-US')} parameters; ${train.examples.length} training samples from ${train.images.size} cases (${train.tooLong} too long), ${validation.examples.length} validation samples`,
  );

  await mkdir(values.out, { recursive: true });
  const program = sftProgram(config, train, batchSize, seed, Number(values['finding-loss']));
  const totalSteps = program.batches(0).length * epochs;
  const scorer = await SplitScorer.create(config, threads);
  const epochLog: Array<{ epoch: number; step: number; valNll: number }> = [];
  const steps: StepLog[] = [];
  const bar = new cliProgress.SingleBar(
    { format: 'sft [{bar}] {value}/{total} steps | loss {loss} | {sps} samples/s | {eta_formatted} left' },
    cliProgress.Presets.shades_classic,
  );
  bar.start(values['max-steps'] ? Math.min(totalSteps, Number(values['max-steps'])) : totalSteps, 0, {
    loss: '-',
    sps: '-',
  });
  const weights = values.init ? await initialWeights(values.init, config) : initWeights(config, seed);
  await runTraining(program, {
    params: weights,
    shapes: parameterShapes(config),
    epochs,
    schedule: { peak: Number(values.lr), warmupSteps: Number(values.warmup), minRatio: 0.1, totalSteps },
    noDecay: noWeightDecay,
    maxSteps: values['max-steps'] ? Number(values['max-steps']) : undefined,
    checkpointPath: join(values.out, 'checkpoint.safetensors'),
    checkpointEvery: 200,
    resume: values.resume,
    intraOpThreads: threads,
    meta: { config, seed, data: values.data, batchSize, epochs },
    onStep: (log) => {
      steps.push(log);
      bar.update(log.step + 1, { loss: log.loss.toFixed(3), sps: ((1000 * batchSize) / log.ms).toFixed(1) });
      // Without a terminal the bar is silent: log a line every 100 steps so long runs can be followed.
      if (!process.stderr.isTTY && log.step % 100 === 0)
        console.log(
          `step ${log.step}/${totalSteps} epoch ${log.epoch} loss ${log.loss.toFixed(4)}${log.stats.finding_loss !== undefined ? ` findings ${log.stats.finding_loss.toFixed(4)}` : ''} lr ${log.lr.toExponential(2)} grad-norm ${log.gradNorm.toFixed(2)} ${log.ms.toFixed(0)} ms`,
        );
    },
    onEpochEnd: async (epoch, params) => {
      const valNll = await scorer.meanNll(validation, params);
      epochLog.push({ epoch, step: steps.at(-1)?.step ?? 0, valNll });
      console.log(`\nepoch ${epoch}: validation answer-token NLL ${valNll.toFixed(4)}`);
    },
  });
  bar.stop();
  await scorer.release();

  const minutes = (performance.now() - started) / 60000;
  const command = `chexpo train sft ${rest.join(' ')}`;
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
  await writeFile(join(values.out, 'metrics.json'), `${JSON.stringify(metrics)}\n`);
  await writePlot(join(values.out, 'loss.png'), sftLossSpec({ steps, epochs: epochLog, window: 50 }));
  await writeVersion(join(values.out, 'version'), {
    config,
    weights,
    tokenizer,
    modelCard: modelCard({
      name: 'chexpo-tiny',
      config,
      parameters: countParameters(config),
      data: { dir: values.data, trainSamples: train.examples.length, trainCases: train.images.size },
      training: { command, steps: steps.length, epochs, minutes, finalValNll: epochLog.at(-1)?.valNll },
    }),
  });
  console.log(`wrote ${join(values.out, 'version')} after ${minutes.toFixed(1)} min`);
}

function modelBase(name: string): VlmConfig {
  // The test model keeps TEST_TINY's widths but must fit real sample lengths.
  if (name === 'test') return { ...TEST_TINY, maxSeqLen: CHEXPO_TINY.maxSeqLen };
  if (name === 'tiny128') return CHEXPO_TINY_128;
  if (name === 'tiny') return CHEXPO_TINY;
  throw new Error(`--model ${name}: expected tiny, tiny128 or test`);
}

/** Weights of an existing version to continue from; its config must equal the one being trained. */
async function initialWeights(versionDir: string, config: VlmConfig) {
  const loaded = await loadVersionWeights(versionDir);
  if (JSON.stringify(loaded.config) !== JSON.stringify(config))
    throw new Error(`--init ${versionDir}: its config differs from this run's (model size or vocabulary)`);
  return loaded.weights;
}
