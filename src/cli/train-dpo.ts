/**
 * `chexpo train dpo` (not registered in src/cli/main.ts; `chexpo train` runs SFT only): DPO on a pairs file from a model version, images of
 * `case` references read from a data set directory.
 */

import { DEFAULT_DPO_TRAIN, type DpoTrainOptions } from '../loop/dpo/options.ts';
import { caseImageResolver, readPairsFile } from '../loop/dpo/pair-files.ts';
import { trainDpo } from '../loop/dpo/train.ts';
import type { PairCandidate } from '../loop/types.ts';
import { loadVersion } from '../model/vlm/version.ts';
import { parseCommandArgs, UsageError } from './args.ts';

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
