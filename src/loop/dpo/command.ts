/**
 * `chexpo train dpo` (registered by src/cli.ts): DPO on a pairs file from a model version, images of
 * `case` references read from a data set directory.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandArgs, UsageError } from '../../cli-args.ts';
import { loadCaseImage, readJsonl } from '../../model/train/dataset.ts';
import { loadVersion } from '../../model/vlm/version.ts';
import type { ImageRef, PairCandidate } from '../types.ts';
import type { ImageResolveFn } from './data.ts';
import { DpoError } from './errors.ts';
import { DEFAULT_DPO_TRAIN, type DpoTrainOptions } from './options.ts';
import { trainDpo } from './train.ts';

/** A data set's case row (the fields loadCaseImage reads). */
type CaseRow = Parameters<typeof loadCaseImage>[1];

const d = DEFAULT_DPO_TRAIN;
const HELP = `usage: chexpo train dpo --model VERSION_DIR --pairs FILE.jsonl --data DIR --out DIR [options]

DPO from a model version on preference pairs (one JSON PairCandidate per line). Images of 'case'
references are read from the data set DIR; pairs with other references (phantom_edit, hard_example)
are skipped and counted. Writes DIR/version (a staging version without calibrator), DIR/dpo-metrics.json
and DIR/dpo-*.png.
  --beta X             KL strength β (default ${d.beta})
  --loss T             sigmoid | ipo | robust (default ${d.lossType})
  --sft-weight X       weight of an SFT term on the chosen answer (default ${d.sftWeight})
  --label-smoothing X  assumed share of flipped labels ε (default ${d.labelSmoothing})
  --lr X               peak learning rate (default ${d.learningRate}; warm-up, cosine decay)
  --warmup-ratio X     share of steps in warm-up (default ${d.warmupRatio})
  --epochs N           passes over the pairs (default ${d.epochs})
  --batch N            pairs per step (default ${d.batchSize})
  --threads N          ORT intra-op threads (default ${d.intraOpThreads})
  --max-steps N        stop after N steps
  --seed S             batch order (default ${d.seed})`;

/** Case ids → data set rows, from every split file the data set has. */
async function caseRows(dataDir: string): Promise<Map<string, CaseRow>> {
  const rows = new Map<string, CaseRow>();
  for (const split of ['train', 'validation', 'test']) {
    const path = join(dataDir, 'cases', `${split}.jsonl`);
    const list = await readJsonl<CaseRow>(path).catch(() => []);
    for (const row of list) rows.set(row.id, row);
  }
  return rows;
}

/** Resolves `case` references to the data set's own images (decoded and preprocessed as serving does). */
export async function caseImageResolver(dataDir: string, imageSize: number): Promise<ImageResolveFn> {
  const rows = await caseRows(dataDir);
  return async (ref: ImageRef) => {
    const row = ref.kind === 'case' ? rows.get(ref.case_id) : undefined;
    if (!row)
      throw new DpoError('DPO_UNRESOLVED_IMAGE', `${JSON.stringify(ref)} is not a case of ${dataDir}`);
    return loadCaseImage(dataDir, row, imageSize);
  };
}

/** One PairCandidate per non-empty line; a line without the fields DPO reads is an error naming it. */
export async function readPairsFile(path: string): Promise<PairCandidate[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const pairs: PairCandidate[] = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    let p: PairCandidate;
    try {
      p = JSON.parse(line) as PairCandidate;
    } catch {
      throw new DpoError('DPO_BAD_PAIRS_FILE', `${path}:${i + 1} is not JSON`);
    }
    const ok =
      typeof p.prompt === 'string' &&
      typeof p.chosen === 'string' &&
      typeof p.rejected === 'string' &&
      typeof p.weight === 'number' &&
      typeof p.chosenImage?.kind === 'string' &&
      typeof p.rejectedImage?.kind === 'string';
    if (!ok) throw new DpoError('DPO_BAD_PAIRS_FILE', `${path}:${i + 1} is not a PairCandidate`);
    pairs.push(p);
  });
  return pairs;
}

const onlyCaseImages = (p: PairCandidate) => p.chosenImage.kind === 'case' && p.rejectedImage.kind === 'case';

export async function dpoCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      model: { type: 'string' },
      pairs: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      beta: { type: 'string' },
      loss: { type: 'string' },
      'sft-weight': { type: 'string' },
      'label-smoothing': { type: 'string' },
      lr: { type: 'string' },
      'warmup-ratio': { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      threads: { type: 'string' },
      'max-steps': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  if (!values.model || !values.pairs || !values.data || !values.out)
    throw new UsageError(`--model, --pairs, --data and --out are required\n\n${HELP}`);
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const given: Partial<DpoTrainOptions> = {
    beta: num(values.beta),
    lossType: values.loss as DpoTrainOptions['lossType'] | undefined,
    sftWeight: num(values['sft-weight']),
    labelSmoothing: num(values['label-smoothing']),
    learningRate: num(values.lr),
    warmupRatio: num(values['warmup-ratio']),
    epochs: num(values.epochs),
    batchSize: num(values.batch),
    intraOpThreads: num(values.threads),
    seed: num(values.seed),
  };
  const options = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));

  const all = await readPairsFile(values.pairs);
  const pairs = all.filter(onlyCaseImages);
  const { config } = await loadVersion(values.model);
  console.log(
    `${all.length} pairs; ${all.length - pairs.length} skipped (image reference other than a data set case)`,
  );
  const result = await trainDpo({
    baseVersionDir: values.model,
    pairs,
    resolveImage: await caseImageResolver(values.data, config.imageSize),
    outDir: values.out,
    options,
    maxSteps: num(values['max-steps']),
    onProgress: (line) => console.log(line),
  });
  const s = result.summary;
  console.log(
    `${result.data.used} pairs used (${result.data.too_long} too long, ${result.data.identical} identical); ${s.steps} steps, ${s.mean_ms_per_step.toFixed(0)} ms/step, ${s.minutes.toFixed(1)} min`,
  );
  console.log(
    `final loss ${s.final_loss.toFixed(4)}, accuracy ${s.final_accuracy.toFixed(2)}, margin ${s.final_margin.toFixed(3)}; whole set: accuracy ${s.train_set_accuracy.toFixed(2)}, margin ${s.train_set_margin.toFixed(3)}, logp change chosen ${s.logp_chosen_change.toFixed(2)} rejected ${s.logp_rejected_change.toFixed(2)}`,
  );
  console.log(`wrote ${result.versionDir}, ${result.metricsPath}`);
}
