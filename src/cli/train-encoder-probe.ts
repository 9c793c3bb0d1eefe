/** `chexpo train encoder-probe`: the encoder and finding head trained alone, scored by AUROC on validation. */
import { writeFile } from 'node:fs/promises';
import { FINDING_KEYS } from '../data/types.ts';
import { aurocIntervals } from '../eval/auroc-interval.ts';
import { auroc } from '../eval/risk-quality.ts';
import { type ProbeCase, trainEncoderProbe } from '../model/train/encoder-probe.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { parseStemOption } from './stem-option.ts';

const HELP = `usage: chexpo train encoder-probe --model VERSION_DIR --data DIR [options]

Trains the image encoder and the finding head alone (the head's BCE, no language model) and prints the
head's AUROC per finding on validation cases every --eval-every steps: can this encoder see the finding at all?
  --random-init     start from random weights of the version's config instead of its weights
  --patch N         another patch size (with --random-init), e.g. 8 for 4× the patches at the same input
  --stem SxW        add a pixel stem (S-px sub-patches, W features each) to the version's encoder; it
                    starts at zero, so step 0 is the version itself
  --image-size N    a whole multiple of the version's input, same patch grid (train sft --help)
  --steps N         training steps (default 3000)
  --lr X            peak learning rate (default 1e-3; warm-up, cosine decay to 10%)
  --batch N         images per step (default 64)
  --train-cases N   the first N training cases (default 8000)
  --val-cases N     the first N validation cases (default 600)
  --eval-every N    steps between evaluations (default 500)
  --threads N       ORT intra-op threads (default 1)
  --seed S          random init and batch draw (default 1)
  --json FILE       write every evaluation as JSON`;

/** Per finding: (logit, present) of every validation case whose label is known, with its case index. */
const findingPoints = (logits: Float32Array, cases: readonly ProbeCase[], j: number) => {
  const f = FINDING_KEYS.length;
  return cases.flatMap((c, i) =>
    c.mask[j] > 0 ? [{ risk: logits[i * f + j], wrong: c.labels[j] === 1, caseIndex: i }] : [],
  );
};

const aurocs = (logits: Float32Array, cases: readonly ProbeCase[]): Record<string, number> =>
  Object.fromEntries(FINDING_KEYS.map((key, j) => [key, auroc(findingPoints(logits, cases, j))]));

/** 95% case-bootstrap intervals of each finding's AUROC (1,000 seeded replicates). */
const aurocIntervalsByFinding = (
  logits: Float32Array,
  cases: readonly ProbeCase[],
): Record<string, [number, number]> => {
  const sets = FINDING_KEYS.map((_, j) => findingPoints(logits, cases, j));
  const intervals = aurocIntervals(sets, cases.length);
  return Object.fromEntries(FINDING_KEYS.map((key, j) => [key, intervals[j]]));
};

export async function encoderProbeCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      'random-init': { type: 'boolean', default: false },
      patch: { type: 'string' },
      stem: { type: 'string' },
      'image-size': { type: 'string' },
      steps: { type: 'string', default: '3000' },
      lr: { type: 'string', default: '1e-3' },
      batch: { type: 'string', default: '64' },
      'train-cases': { type: 'string', default: '8000' },
      'val-cases': { type: 'string', default: '600' },
      'eval-every': { type: 'string', default: '500' },
      threads: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      json: { type: 'string' },
    },
  });
  if (!values.model || !values.data) throw new UsageError(`--model and --data are required\n\n${HELP}`);
  const int = (name: string, text: string): number => {
    const n = Number(text);
    if (!(Number.isInteger(n) && n >= 1)) throw new UsageError(`--${name} must be a whole number ≥ 1`);
    return n;
  };
  const lr = Number(values.lr);
  if (!(lr > 0)) throw new UsageError('--lr must be > 0');
  if (values.patch && !values['random-init']) throw new UsageError('--patch needs --random-init');
  const evaluations: {
    step: number;
    auroc: Record<string, number>;
    interval95?: Record<string, [number, number]>;
  }[] = [];
  const steps = int('steps', values.steps);
  await trainEncoderProbe({
    versionDir: values.model,
    dataDir: values.data,
    randomInit: values['random-init'],
    ...(values.patch ? { patchSize: int('patch', values.patch) } : {}),
    ...(values.stem ? { stem: parseStemOption(values.stem) } : {}),
    ...(values['image-size'] ? { imageSize: int('image-size', values['image-size']) } : {}),
    steps,
    lr,
    batchSize: int('batch', values.batch),
    trainCases: int('train-cases', values['train-cases']),
    valCases: int('val-cases', values['val-cases']),
    evalEvery: int('eval-every', values['eval-every']),
    threads: int('threads', values.threads),
    seed: int('seed', values.seed),
    onStep: (step, loss) => {
      if (step % 100 === 0) console.log(`step ${step} loss ${loss.toFixed(4)}`);
    },
    onEval: (step, logits, cases) => {
      const a = aurocs(logits, cases);
      // The last evaluation (and the first: the start) carry intervals, so runs compare honestly.
      const interval95 = step === steps || step === 0 ? aurocIntervalsByFinding(logits, cases) : undefined;
      evaluations.push({ step, auroc: a, ...(interval95 ? { interval95 } : {}) });
      const shown = (k: string, v: number) =>
        `${k} ${v.toFixed(3)}${interval95 ? ` [${interval95[k].map((x) => x.toFixed(3)).join(', ')}]` : ''}`;
      console.log(
        `step ${step} AUROC: ${Object.entries(a)
          .map(([k, v]) => shown(k, v))
          .join(', ')}`,
      );
    },
  });
  if (values.json) await writeFile(values.json, `${JSON.stringify(evaluations, null, 2)}\n`);
}
