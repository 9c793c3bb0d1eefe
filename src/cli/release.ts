/**
 * `chexpo release`: turns a trained staging version into a published one, in order:
 * (1) fit the risk calibrator and the OOD reference on the validation split, (2) evaluate on the held-out
 * test split, (3) publish into the registry with data, training and eval provenance, (4) optionally make
 * it CURRENT. One command, so the bundled release is reproducible from its manifest.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { evaluate, formatEvalTable, toEvalRecord } from '../eval/index.ts';
import { controlsRecord, formatControls, runControls } from '../inference/offline/controls.ts';
import { fitCalibration, readSplit, runSplit } from '../inference/offline/index.ts';
import { evalPlots } from '../plots/eval.ts';
import { writePlot } from '../plots/render.ts';
import { CHEXPO_VERSION_FILES, Registry } from '../registry/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo release --model RUN/version --data DIR --registry ROOT --name NAME [--version ID] [--set-current]
  [--parent ID] [--eval-limit N] [--calibration-limit N] [--no-controls] [--seed S] [--threads K]

Fits calibrator.json and ood.json on the validation split, evaluates on the test split (bootstrap
intervals, seed S) with the controls of 'chexpo eval' (permuted images, image-blind baselines fitted on
train, visibility), writes RUN/eval.json, RUN/reliability.png and RUN/per-finding.png (each with its .svg)
and publishes the version into ROOT/NAME with its manifest.
  --parent ID            the version this one was trained from (train sft --init); default: the registry's
                         CURRENT, which is wrong for a release trained from another version
  --eval-limit N         test samples, whole cases in a seeded order (default: all)
  --calibration-limit N  validation samples the calibrator is fitted on (default: all)
  --json                 progress on stderr; stdout: one JSON object (name, version, files, current, eval)`;

export async function releaseCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      registry: { type: 'string' },
      name: { type: 'string', default: 'chexpo-tiny' },
      version: { type: 'string' },
      parent: { type: 'string' },
      'set-current': { type: 'boolean', default: false },
      'eval-limit': { type: 'string' },
      'calibration-limit': { type: 'string' },
      'no-controls': { type: 'boolean', default: false },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model || !values.data || !values.registry)
    throw new UsageError(`--model, --data and --registry are required\n\n${HELP}`);
  // With --json, progress goes to stderr and stdout carries one JSON object.
  const released = await release(
    {
      model: values.model,
      data: values.data,
      registry: values.registry,
      name: values.name,
      version: values.version,
      ...(values.parent ? { parent: values.parent } : {}),
      setCurrent: values['set-current'],
      evalLimit: values['eval-limit'] ? Number(values['eval-limit']) : undefined,
      calibrationLimit: values['calibration-limit'] ? Number(values['calibration-limit']) : undefined,
      controls: !values['no-controls'],
      seed: Number(values.seed),
      threads: values.threads ? Number(values.threads) : undefined,
    },
    values.json ? console.error : console.log,
  );
  if (values.json) console.log(JSON.stringify(released));
}

export interface ReleaseOptions {
  /** The staging version directory (RUN/version; RUN/metrics.json is read when present). */
  model: string;
  /** The data set it was trained on. */
  data: string;
  /** Registry root; the version is published into ROOT/`name`. */
  registry: string;
  name: string;
  /** The version id (default: the registry's). */
  version?: string;
  /** The version it was trained from; default the registry's CURRENT. */
  parent?: string;
  setCurrent: boolean;
  /** Test samples, whole cases in a seeded order (default: all). */
  evalLimit?: number;
  /** Validation samples the calibrator is fitted on (default: all). */
  calibrationLimit?: number;
  /** Run the controls of `chexpo eval` beside the evaluation. */
  controls: boolean;
  seed: number;
  threads?: number;
}

export interface Released {
  name: string;
  version: string;
  files: number;
  current: boolean;
  eval: Record<string, unknown>;
}

/** Calibrates, evaluates and publishes a staging version (the steps above); progress lines go to `say`. */
export async function release(o: ReleaseOptions, say: (line: string) => void): Promise<Released> {
  const { seed, threads } = o;
  // Read before the minutes of calibration and evaluation, so a missing training record fails first.
  const metrics = await readTrainingMetrics(o.model);
  say('fitting the risk calibrator and OOD reference on the validation split…');
  const calibration = await fitCalibration(o.model, o.data, { seed, threads, limit: o.calibrationLimit });
  say(`calibration (in-sample): ${JSON.stringify(calibration.quality)}`);

  say('evaluating on the test split…');
  const limit = o.evalLimit;
  const predictions = await runSplit(o.model, o.data, 'test', { seed, threads, limit });
  const test = await readSplit(o.data, 'test');
  const asked = new Set(predictions.map((p) => p.sample_id));
  const result = evaluate(
    test.samples.filter((s) => asked.has(s.id)),
    predictions,
    { cases: test.cases, seed },
  );
  say(formatEvalTable(result));
  let controls: ReturnType<typeof controlsRecord> | undefined;
  let permuted: Parameters<typeof evalPlots>[1];
  if (o.controls) {
    const report = await runControls({
      versionDir: o.model,
      dataDir: o.data,
      split: 'test',
      samples: test.samples.filter((s) => asked.has(s.id)),
      data: test,
      model: result,
      run: { seed, threads, limit },
      evalOptions: { seed },
    });
    say(`\n${formatControls(report)}`);
    controls = controlsRecord(report);
    permuted = report.permuted;
  }
  const evalRecord = {
    ...toEvalRecord(result),
    split: 'test',
    seed,
    samples: predictions.length,
    ...(controls
      ? {
          controls_primary: {
            permuted_images: controls.permuted.metrics.primary?.value ?? null,
            question_only: controls.question_only.metrics.primary?.value ?? null,
          },
        }
      : {}),
  };
  const runDir = dirname(o.model);
  await writeFile(
    join(runDir, 'eval.json'),
    `${JSON.stringify({ ...evalRecord, ...(controls ? { controls } : {}), predictions }, null, 2)}\n`,
  );
  for (const [file, spec] of Object.entries(evalPlots(result, permuted)))
    await writePlot(join(runDir, file), spec);

  const config = JSON.parse(await readFile(join(o.model, 'config.json'), 'utf8'));
  const dataManifest = JSON.parse(await readFile(join(o.data, 'manifest.json'), 'utf8'));
  const registry = await Registry.open(o.registry, o.name, { requiredFiles: CHEXPO_VERSION_FILES });
  try {
    const manifest = await registry.publish(o.model, {
      version: o.version,
      ...(o.parent ? { parent: o.parent } : {}),
      config,
      data: {
        seed: Number(dataManifest.seed ?? 0),
        split: 'train',
        generator: `${dataManifest.generator ?? 'unknown'} (${dataManifest.cases ?? '?'} cases, ${dataManifest.size ?? '?'} px)`,
      },
      training: {
        command: metrics.command ?? 'chexpo train sft',
        run_id: null,
        metrics: {
          steps: metrics.steps?.length ?? 0,
          minutes: metrics.minutes ?? 0,
          final_val_nll: metrics.finalValNll,
        },
      },
      eval: evalRecord,
    });
    say(`published ${o.name} ${manifest.version} (${manifest.files.length} files)`);
    if (o.setCurrent) {
      await registry.setCurrent(manifest.version, { reason: 'release', actor: 'chexpo release' });
      say(`CURRENT → ${manifest.version}`);
    }
    return {
      name: o.name,
      version: manifest.version,
      files: manifest.files.length,
      current: o.setCurrent,
      eval: evalRecord,
    };
  } finally {
    registry.close();
  }
}

interface TrainingMetrics {
  command?: string;
  steps?: unknown[];
  minutes?: number;
  finalValNll: number;
}

/** RUN/metrics.json of `chexpo train sft`: the manifest records the run's validation NLL, so it must exist. */
async function readTrainingMetrics(model: string): Promise<TrainingMetrics> {
  const file = join(dirname(model), 'metrics.json');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null)
    throw new UsageError(
      `${file} not found: release publishes a training run's output, RUN/version beside the RUN/metrics.json ` +
        `that \`chexpo train sft --out RUN\` writes; pass --model RUN/version of such a run`,
    );
  const metrics = JSON.parse(text);
  const finalValNll = metrics.epochs?.at(-1)?.valNll;
  if (!Number.isFinite(finalValNll))
    throw new UsageError(
      `${file} has no validation NLL (epochs[].valNll): the training run did not finish an epoch's validation`,
    );
  return { ...metrics, finalValNll };
}
