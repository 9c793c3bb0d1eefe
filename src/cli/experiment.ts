/** `chexpo experiment`: runs the ablation and writes docs/results.md (see src/loop/experiment/run-experiment.ts). */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { resolveLoopConfig } from '../loop/config.ts';
import { ARM_NAMES, type ArmName } from '../loop/experiment/arms.ts';
import { resultsDoc, resultsJson, resultsTable } from '../loop/experiment/results-doc.ts';
import { runExperiment } from '../loop/experiment/run-experiment.ts';
import type { ImageDirection } from '../loop/pairs/balance.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo experiment --model VERSION_DIR --data DIR [--work DIR] [--out docs/results.md]
         [--seed S] [--threads N] [--mining-limit N] [--eval-limit N] [--split test|validation]
         [--epochs N] [--arms a,b,…] [--rounds N] [--held-out N] [--max-pairs N] [--cap-per-cell N]
         [--encoder-auroc A] (findings the finding head separates below A count as invisible)
         [--error-rate-floor F] (rule-made pairs weighted by the model's own error rate, floor F)
         [--absent-per-present R] (keep up to R absent-favouring pairs per present-favouring one; default 1)
         [--image-direction edit|answer] (read an image counterfactual's direction from its edit or its answer; default edit)
         DPO: [--lr X] [--beta B] [--sft-weight W] [--anchor W] [--replay W] [--focus W]
         continued SFT: [--sft-lr X] [--answer-weight W] [--finding-loss W]

Runs the ablation arms (${ARM_NAMES.join(', ')}) from one seed and writes the table.
Arm outputs are kept in --work and reused, so an interrupted run resumes.
'chexpo experiment summarize --help': several seeds' results side by side.
  --split validation   score arms on validation samples (choosing settings); the table is on test
  --json               progress on stderr; stdout: the result as one JSON object`;

export async function experimentCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'summarize')
    return (await import('./experiment-summarize.ts')).summarizeCommand(argv.slice(1));
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      work: { type: 'string', default: './var/experiment' },
      out: { type: 'string', default: 'docs/results.md' },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string', default: '2' },
      'mining-limit': { type: 'string', default: '3000' },
      'eval-limit': { type: 'string', default: '3000' },
      epochs: { type: 'string', default: '2' },
      k: { type: 'string', default: '4' },
      lr: { type: 'string' },
      beta: { type: 'string' },
      'sft-weight': { type: 'string' },
      anchor: { type: 'string' },
      replay: { type: 'string' },
      focus: { type: 'string' },
      'sft-lr': { type: 'string', default: '5e-4' },
      'answer-weight': { type: 'string', default: '3' },
      'finding-loss': { type: 'string', default: '2' },
      rounds: { type: 'string', default: '2' },
      'held-out': { type: 'string', default: '600' },
      'max-pairs': { type: 'string' },
      'cap-per-cell': { type: 'string' },
      'encoder-auroc': { type: 'string' },
      'error-rate-floor': { type: 'string' },
      'absent-per-present': { type: 'string' },
      'image-direction': { type: 'string' },
      split: { type: 'string', default: 'test' },
      arms: { type: 'string', default: ARM_NAMES.join(',') },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model || !values.data) throw new UsageError(`--model and --data are required\n\n${HELP}`);
  // With --json, progress goes to stderr and stdout carries the result as one JSON object.
  const say = values.json ? console.error : console.log;
  const arms = values.arms.split(',').map((a) => a.trim()) as ArmName[];
  const unknown = arms.filter((a) => !ARM_NAMES.includes(a));
  if (unknown.length > 0) throw new UsageError(`unknown arms: ${unknown.join(', ')}`);
  const seed = Number(values.seed);
  if (values.split !== 'test' && values.split !== 'validation')
    throw new UsageError(`--split must be test or validation (got ${values.split})`);
  const given = values as Record<string, string | boolean | undefined>;
  const opt = (name: string, key: string) => (given[name] ? { [key]: Number(given[name]) } : {});
  const config = resolveLoopConfig({
    seed,
    threads: Number(values.threads),
    mining: { limit: Number(values['mining-limit']), ...opt('encoder-auroc', 'encoderAuroc') },
    expansion: { k: Number(values.k) },
    balance: { ...opt('max-pairs', 'maxPairs'), ...opt('cap-per-cell', 'capPerCell') },
    pairs: {
      ...opt('error-rate-floor', 'errorRateFloor'),
      ...opt('absent-per-present', 'absentPerPresent'),
      ...(values['image-direction'] ? { imageDirection: values['image-direction'] as ImageDirection } : {}),
    },
    dpo: {
      epochs: Number(values.epochs),
      ...opt('lr', 'learningRate'),
      ...opt('beta', 'beta'),
      ...opt('sft-weight', 'sftWeight'),
      ...opt('anchor', 'anchorWeight'),
      ...opt('replay', 'replayWeight'),
      ...opt('focus', 'focusWeight'),
      replayAnswerWeight: Number(values['answer-weight']),
    },
    eval: { limit: Number(values['eval-limit']), seed, resamples: 1000 },
  });
  const modelDir = resolve(values.model);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load ${loadavg()[0].toFixed(1)} at start`;
  const result = await runExperiment({
    modelDir,
    baseVersion: basename(modelDir),
    dataDir: resolve(values.data),
    workDir: resolve(values.work),
    config,
    arms,
    evalSplit: values.split,
    sft: {
      learningRate: Number(values['sft-lr']),
      answerWeight: Number(values['answer-weight']),
      findingLossWeight: Number(values['finding-loss']),
    },
    rounds: Number(values.rounds),
    heldOutSamples: Number(values['held-out']),
    log: (line) => say(line),
  });
  say(`\n${resultsTable(result)}\n`);
  const command = `chexpo experiment ${argv.join(' ')}`;
  await mkdir(dirname(resolve(values.out)), { recursive: true });
  await writeFile(resolve(values.out), resultsDoc(result, command, machine));
  await writeFile(join(resolve(values.work), 'experiment.json'), `${JSON.stringify(result, null, 2)}\n`);
  const jsonPath = `${resolve(values.out).replace(/\.md$/, '')}.json`;
  await writeFile(jsonPath, `${JSON.stringify(resultsJson(result), null, 2)}\n`);
  say(`wrote ${values.out} (${result.minutes.toFixed(1)} min)`);
  if (values.json) console.log(JSON.stringify(result));
}
