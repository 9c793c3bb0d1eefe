import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { trainSft } from '../model/train/train-sft.ts';
import { writePlot } from '../plots/render.ts';
import { sftLossSpec } from '../plots/training.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { parseStemOption } from './stem-option.ts';

const HELP = `usage: chexpo train sft --data DIR --out RUN_DIR [options]
       chexpo train encoder-probe --model VERSION_DIR --data DIR [options]   ('chexpo train encoder-probe --help')

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
  --stem SxW        with --init: add a pixel stem (S-px sub-patches, W features each) to that version's
                    encoder; it starts at zero, so step 0 is the version itself (docs/model.md)
  --image-size N    with --init: a whole multiple of that version's input, same patch grid (patches and
                    the patch embedding spread k×), so step 0 computes the version's function
  --finding-evidence  with --init: the decoder reads the finding head (its logits, projected, are added to
                    every image token); the projection starts at zero, so step 0 is the version itself
  --oversample T=K  repeat samples of task T K times per epoch, e.g. report=3,abnormality_list=2
  --model NAME      tiny (CHEXPO_TINY, 64 px), tiny128 (128 px with the finding head) or test (default tiny)
  --answer-weight W loss weight of answer-bearing tokens (short answers; finding words of reports; default 1)
  --finding-loss W  weight of the finding head's BCE beside SFT (default 0.5; models with the head only)
  --finding-weight F=W  per-finding weight inside that BCE, e.g. central_line=4,nodule=4 (default 1 each)
  --threads N       ORT intra-op threads (default: all cores)
  --seed S          weight init and batch order (default 1)`;

export async function trainCommand(argv: string[]): Promise<void> {
  const [kind, ...rest] = argv;
  if (kind === 'encoder-probe') return (await import('./train-encoder-probe.ts')).encoderProbeCommand(rest);
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
      stem: { type: 'string' },
      'image-size': { type: 'string' },
      'finding-evidence': { type: 'boolean', default: false },
      oversample: { type: 'string' },
      'finding-loss': { type: 'string', default: '0.5' },
      'finding-weight': { type: 'string' },
      'answer-weight': { type: 'string', default: '1' },
    },
  });
  if (!values.data || !values.out) throw new UsageError(`--data and --out are required\n\n${HELP}`);
  if ((values.stem || values['image-size'] || values['finding-evidence']) && !values.init)
    throw new UsageError('--stem, --image-size and --finding-evidence extend a version: they need --init');
  const batchSize = Number(values.batch);
  const bar = new cliProgress.SingleBar(
    { format: 'sft [{bar}] {value}/{total} steps | loss {loss} | {sps} samples/s | {eta_formatted} left' },
    cliProgress.Presets.shades_classic,
  );
  const { versionDir, minutes } = await trainSft(
    {
      data: values.data,
      out: values.out,
      epochs: Number(values.epochs),
      batchSize,
      lr: Number(values.lr),
      warmupSteps: Number(values.warmup),
      maxCases: values['max-cases'] ? Number(values['max-cases']) : undefined,
      valCases: Number(values['val-cases']),
      maxSteps: values['max-steps'] ? Number(values['max-steps']) : undefined,
      resume: values.resume,
      model: values.model,
      init: values.init,
      ...(values.stem ? { stem: parseStemOption(values.stem) } : {}),
      ...(values['image-size'] ? { imageSize: Number(values['image-size']) } : {}),
      findingEvidence: values['finding-evidence'],
      oversample: values.oversample ?? '',
      findingLoss: Number(values['finding-loss']),
      findingWeights: values['finding-weight'],
      answerWeight: Number(values['answer-weight']),
      threads: values.threads ? Number(values.threads) : availableParallelism(),
      seed: Number(values.seed),
      command: `chexpo train sft ${rest.join(' ')}`,
    },
    {
      loaded: (d) =>
        console.log(
          `chexpo-tiny ${d.parameters.toLocaleString('en-US')} parameters; ${d.trainSamples} training samples from ${d.trainCases} cases (${d.tooLong} too long), ${d.validationSamples} validation samples`,
        ),
      started: (steps) => bar.start(steps, 0, { loss: '-', sps: '-' }),
      step: (log, totalSteps) => {
        bar.update(log.step + 1, {
          loss: log.loss.toFixed(3),
          sps: ((1000 * batchSize) / log.ms).toFixed(1),
        });
        // Without a terminal the bar is silent: log a line every 100 steps so long runs can be followed.
        if (!process.stderr.isTTY && log.step % 100 === 0)
          console.log(
            `step ${log.step}/${totalSteps} epoch ${log.epoch} loss ${log.loss.toFixed(4)}${log.stats.finding_loss !== undefined ? ` findings ${log.stats.finding_loss.toFixed(4)}` : ''} lr ${log.lr.toExponential(2)} grad-norm ${log.gradNorm.toFixed(2)} ${log.ms.toFixed(0)} ms`,
          );
      },
      epoch: (epoch, valNll) =>
        console.log(`\nepoch ${epoch}: validation answer-token NLL ${valNll.toFixed(4)}`),
      trained: async ({ steps, epochs }) => {
        bar.stop();
        await writePlot(join(values.out!, 'loss.png'), sftLossSpec({ steps, epochs, window: 50 }));
      },
    },
  );
  console.log(`wrote ${versionDir} after ${minutes.toFixed(1)} min`);
}
