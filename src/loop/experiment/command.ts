/** `chexpo experiment`: runs the ablation and writes docs/results.md (see run-experiment.ts). */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseCommandArgs, UsageError } from '../../cli-args.ts';
import { resolveLoopConfig } from '../config.ts';
import { ARM_NAMES, type ArmName } from './arms.ts';
import { resultsDoc, resultsTable } from './results-doc.ts';
import { runExperiment } from './run-experiment.ts';

const HELP = `usage: chexpo experiment --model VERSION_DIR --data DIR [--work DIR] [--out docs/results.md]
         [--seed S] [--threads N] [--mining-limit N] [--eval-limit N] [--epochs N] [--arms a,b,…]
         [--lr X] [--beta B] [--sft-weight W]   (DPO settings; the continued-SFT baseline uses the same lr)

Runs the ablation arms (${ARM_NAMES.join(', ')}) from one seed and writes the table.
Arm outputs are kept in --work and reused, so an interrupted run resumes.
  --json   progress on stderr; stdout: the result (results.json) as one JSON object`;

export async function experimentCommand(argv: string[]): Promise<void> {
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
  const config = resolveLoopConfig({
    seed,
    threads: Number(values.threads),
    mining: { limit: Number(values['mining-limit']) },
    expansion: { k: Number(values.k) },
    dpo: {
      epochs: Number(values.epochs),
      ...(values.lr ? { learningRate: Number(values.lr) } : {}),
      ...(values.beta ? { beta: Number(values.beta) } : {}),
      ...(values['sft-weight'] ? { sftWeight: Number(values['sft-weight']) } : {}),
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
    log: (line) => say(line),
  });
  say(`\n${resultsTable(result)}\n`);
  const command = `chexpo experiment ${argv.join(' ')}`;
  await mkdir(dirname(resolve(values.out)), { recursive: true });
  await writeFile(resolve(values.out), resultsDoc(result, command, machine));
  await writeFile(join(resolve(values.work), 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${values.out} (${result.minutes.toFixed(1)} min)`);
  if (values.json) console.log(JSON.stringify(result));
}
