import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Split } from '../data/types.ts';
import { evaluate, formatEvalTable, toEvalRecord } from '../eval/index.ts';
import { scoreAll } from '../eval/metrics.ts';
import { formatRiskQuality, riskPoints } from '../eval/risk-quality.ts';
import {
  type ControlsReport,
  controlsRecord,
  formatControls,
  runControls,
} from '../inference/offline/controls.ts';
import { formatFindingHead, probeFindingHead } from '../inference/offline/finding-head.ts';
import { readSplit, runSplit } from '../inference/offline/index.ts';
import { formatFolder, scoreFolder } from '../inference/offline/ood-folder.ts';
import { evalPlots } from '../plots/eval.ts';
import { writePlot } from '../plots/render.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo eval --model DIR --data DIR [--split test] [--limit N] [--seed S] [--json OUT.json]
       chexpo eval --model DIR --ood IMAGES_DIR   (OOD scores and flags of every image in a folder)
       chexpo eval --model DIR --data DIR --finding-head [--split validation] [--limit CASES]
                   (what the encoder sees: the finding head's AUROC per finding)

Generates an answer for every instruction sample of a split with a model version (greedy, KV cache,
batched by image), scores them against the exact case labels and prints task scores, safety metrics
(hallucination, omission, POPE, ECE) and per-finding accuracy with case-bootstrap intervals.
  --split       train | validation | test (default test)
  --limit       at most N samples, whole cases in a seeded order (default: all)
  --seed        subset and bootstrap seed (default 0)
  --batch       generation requests per batch (default 16)
  --max-tokens  token budget per answer (default: the model's maxSeqLen)
  --resamples   bootstrap replicates (default 1000; 0 = no intervals)
  --threads     threads per ORT op (default: ORT's)
  --no-controls skip the controls (permuted images, question-only and constant baselines fitted on
                train, the visibility table), which are printed by default
  --visibility-cases N  phantoms per finding in the visibility table (default 20)
  --json        also write the evaluation record (chexpo.eval/1) and the predictions to this file
  --plots DIR   also write DIR/reliability.png (reliability diagram) and DIR/per-finding.png
                (per-finding bars with intervals; own vs permuted images with the controls), each with its .svg`;

const SPLITS: Split[] = ['train', 'validation', 'test'];

function wholeNumber(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number ≥ ${min}, got '${value}'`);
  return n;
}

/** Prints a table and, with --json, writes its record beside it. */
async function report(table: string, jsonPath: string | undefined, record: object): Promise<void> {
  console.log(table);
  if (jsonPath) await writeFile(jsonPath, `${JSON.stringify(record, null, 2)}\n`);
}

export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string', default: 'test' },
      limit: { type: 'string' },
      seed: { type: 'string', default: '0' },
      batch: { type: 'string' },
      'max-tokens': { type: 'string' },
      resamples: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'no-controls': { type: 'boolean', default: false },
      'visibility-cases': { type: 'string' },
      ood: { type: 'string' },
      'finding-head': { type: 'boolean', default: false },
      plots: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.model && values.ood) {
    const results = await scoreFolder(values.model, values.ood, wholeNumber('threads', values.threads, 1));
    await report(formatFolder(results), values.json, { schema: 'chexpo.ood-folder/1', results });
    return;
  }
  if (!values.model || !values.data)
    throw new UsageError(`--model DIR and --data DIR are required\n\n${HELP}`);
  const split = values.split as Split;
  if (!SPLITS.includes(split))
    throw new Error(`--split must be one of ${SPLITS.join(', ')}, got '${values.split}'`);
  const seed = wholeNumber('seed', values.seed, 0) ?? 0;
  if (values['finding-head']) {
    const scores = await probeFindingHead(values.model, values.data, split, {
      cases: wholeNumber('limit', values.limit, 1),
      threads: wholeNumber('threads', values.threads, 1),
    });
    await report(formatFindingHead(scores), values.json, { schema: 'chexpo.finding-head/1', scores });
    return;
  }

  const bar = values.quiet
    ? undefined
    : new cliProgress.SingleBar(
        { format: 'eval [{bar}] {value}/{total} samples | {eta_formatted} left', etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
  const started = performance.now();
  bar?.start(1, 0);
  const runOptions = {
    limit: wholeNumber('limit', values.limit, 1),
    seed,
    batchSize: wholeNumber('batch', values.batch, 1),
    maxTokens: wholeNumber('max-tokens', values['max-tokens'], 1),
    threads: wholeNumber('threads', values.threads, 1),
  };
  const predictions = await runSplit(values.model, values.data, split, {
    ...runOptions,
    onProgress: (done, total) => {
      bar?.setTotal(total);
      bar?.update(done);
    },
  }).finally(() => bar?.stop());
  const seconds = (performance.now() - started) / 1000;

  const data = await readSplit(values.data, split);
  const asked = new Set(predictions.map((p) => p.sample_id));
  const samples = data.samples.filter((s) => asked.has(s.id));
  const evalOptions = { seed, resamples: wholeNumber('resamples', values.resamples, 0) };
  const result = evaluate(samples, predictions, { ...evalOptions, cases: data.cases });
  console.log(formatEvalTable(result));
  if (predictions.some((p) => p.risk !== undefined)) {
    const risks = new Map(predictions.map((p) => [p.sample_id, p.risk]));
    const scored = [...scoreAll(samples, predictions, data.cases).byCase.values()].flat();
    console.log(`\n${formatRiskQuality(riskPoints(scored, (id) => risks.get(id)))}`);
  }
  let controls: ControlsReport | undefined;
  if (!values['no-controls']) {
    controls = await runControls({
      versionDir: values.model,
      dataDir: values.data,
      split,
      samples,
      data,
      model: result,
      run: runOptions,
      evalOptions,
      visibilityCases: wholeNumber('visibility-cases', values['visibility-cases'], 1),
    });
    console.log(`\n${formatControls(controls)}`);
  }
  if (values.plots) {
    await mkdir(values.plots, { recursive: true });
    for (const [file, spec] of Object.entries(evalPlots(result, controls?.permuted))) {
      await writePlot(join(values.plots, file), spec);
      console.log(`wrote ${join(values.plots, file)}`);
    }
  }
  const tooLong = predictions.filter((p) => p.prompt_too_long).length;
  console.log(
    `\n${values.model} on ${values.data} (${split}): ${predictions.length} answers in ${seconds.toFixed(1)} s` +
      (tooLong > 0 ? `; ${tooLong} prompts longer than maxSeqLen answered empty` : ''),
  );
  if (values.json) {
    const record = {
      ...toEvalRecord(result),
      model: values.model,
      data: values.data,
      split,
      ...(controls ? { controls: controlsRecord(controls) } : {}),
      predictions,
    };
    await writeFile(values.json, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`wrote ${values.json}`);
  }
}
