/**
 * One DPO run from a model version: (1) load its weights and tokenizer, (2) tokenise the pairs and
 * resolve their images, (3) reference log-probs under the frozen weights, (4) the shared training loop
 * on the `train_dpo` graph, (5) re-score every pair with the trained weights, (6) write a staging
 * version (same config and tokenizer, new weights, no calibrator: the caller refits it),
 * dpo-metrics.json and the curves.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_ADAMW } from '../../model/train/adamw.ts';
import { runTraining } from '../../model/train/run-training.ts';
import { parameterShapes } from '../../model/train/sft.ts';
import type { VlmConfig } from '../../model/vlm/config.ts';
import { loadVersion, loadVersionWeights, writeVersion } from '../../model/vlm/version.ts';
import { noWeightDecay, type Weights } from '../../model/vlm/weights.ts';
import { writePlot } from '../../plots/render.ts';
import type { PairCandidate } from '../types.ts';
import { buildDpoDataset, type DpoDataset, type ImageResolveFn } from './data.ts';
import { DpoError } from './errors.ts';
import {
  type DpoStepStats,
  type DpoSummary,
  dpoPlots,
  progressLine,
  stepStats,
  summarize,
} from './metrics.ts';
import { type DpoTrainOptions, resolveDpoOptions } from './options.ts';
import { dpoProgram } from './program.ts';
import { type PairLogProbs, PairScorer } from './reference.ts';
import { buildReplaySet, type ReplayExample, type ReplaySource } from './replay.ts';

export interface TrainDpoInput {
  /** The version the run starts from: initial policy and frozen reference. */
  baseVersionDir: string;
  pairs: readonly PairCandidate[];
  resolveImage: ImageResolveFn;
  /** Receives version/, dpo-metrics.json and the dpo-*.png curves (each with its .svg). */
  outDir: string;
  options?: Partial<DpoTrainOptions>;
  /** Every step's statistics. */
  onStep?: (stats: DpoStepStats) => void;
  /** A human-readable line every `logEvery` steps (and on the last one). */
  onProgress?: (line: string) => void;
  /** Stop after this many steps (tests, time budgets); the schedule then spans exactly these steps. */
  maxSteps?: number;
  /** SFT samples for the replay term (used when options.replayWeight > 0). */
  replay?: ReplaySource;
  /**
   * Pairs from patients never trained on (validation): scored before and after training, so learning the
   * preference can be told from memorising the training pairs.
   */
  heldOut?: readonly PairCandidate[];
}

export interface DpoDataCounts {
  pairs: number;
  used: number;
  too_long: number;
  identical: number;
  bad_weight: number;
  images: number;
  by_kind: Record<string, number>;
}

export interface DpoResult {
  /** The staging version directory (outDir/version). */
  versionDir: string;
  metricsPath: string;
  plotPaths: string[];
  summary: DpoSummary;
  data: DpoDataCounts;
  options: DpoTrainOptions;
  steps: DpoStepStats[];
}

function dataCounts(pairs: readonly PairCandidate[], dataset: DpoDataset): DpoDataCounts {
  const byKind: Record<string, number> = {};
  for (const e of dataset.examples) byKind[e.pair.kind] = (byKind[e.pair.kind] ?? 0) + 1;
  return {
    pairs: pairs.length,
    used: dataset.examples.length,
    too_long: dataset.tooLong,
    identical: dataset.identical,
    bad_weight: dataset.badWeight,
    images: dataset.images,
    by_kind: byKind,
  };
}

function modelCardSection(base: string, o: DpoTrainOptions, data: DpoDataCounts, s: DpoSummary): string {
  return `
## Preference optimisation (DPO)
Trained from \`${base}\` on ${data.used} preference pairs (${Object.entries(data.by_kind)
    .map(([k, n]) => `${k} ${n}`)
    .join(
      ', ',
    )}) with loss ${o.lossType}, β ${o.beta}, learning rate ${o.learningRate}, ${o.epochs} epoch(s) of
batch ${o.batchSize}${o.sftWeight > 0 ? `, SFT weight ${o.sftWeight}` : ''}${o.labelSmoothing > 0 ? `, label smoothing ${o.labelSmoothing}` : ''}: ${s.steps} steps in ${s.minutes.toFixed(1)} minutes.
Final reward accuracy ${s.final_accuracy.toFixed(2)}, margin ${s.final_margin.toFixed(3)}; answer log-prob change
chosen ${s.logp_chosen_change.toFixed(2)}, rejected ${s.logp_rejected_change.toFixed(2)} nats (dpo-metrics.json).
`;
}

/** Steps (3)–(5): reference log-probs, training (weights updated in place), re-score. */
async function trainAndScore(
  config: VlmConfig,
  dataset: DpoDataset,
  weights: Weights,
  o: DpoTrainOptions,
  input: TrainDpoInput,
  steps: DpoStepStats[],
  extra: { replay: ReplayExample[]; heldOut: DpoDataset | null },
): Promise<{ reference: PairLogProbs; after: PairLogProbs; heldOut: HeldOutScores | null }> {
  const scorer = await PairScorer.create(config, o.intraOpThreads);
  try {
    // The policy starts equal to the reference, so these are also the "before" log-probs.
    const reference = await scorer.score(dataset.examples, weights);
    const heldOutBefore = extra.heldOut ? await scorer.score(extra.heldOut.examples, weights) : null;
    const program = dpoProgram(config, dataset, {
      batchSize: o.batchSize,
      seed: o.seed,
      reference,
      dpo: {
        beta: o.beta,
        lossType: o.lossType,
        sftWeight: o.sftWeight,
        labelSmoothing: o.labelSmoothing,
        anchorWeight: o.anchorWeight,
        replayWeight: o.replayWeight,
      },
      replay: { examples: extra.replay, batchSize: o.replayBatchSize },
    });
    const planned = program.batches(0).length * o.epochs;
    const totalSteps = Math.min(planned, input.maxSteps ?? planned);
    await runTraining(program, {
      params: weights,
      shapes: parameterShapes(config),
      epochs: o.epochs,
      schedule: {
        peak: o.learningRate,
        warmupSteps: Math.round(o.warmupRatio * totalSteps),
        minRatio: o.minLrRatio,
        totalSteps,
      },
      adamw: { ...DEFAULT_ADAMW, weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm },
      noDecay: noWeightDecay,
      maxSteps: input.maxSteps,
      intraOpThreads: o.intraOpThreads,
      onStep: (log) => {
        const s = stepStats(log);
        steps.push(s);
        input.onStep?.(s);
        if (log.step % o.logEvery === 0 || log.step + 1 === totalSteps)
          input.onProgress?.(progressLine(s, totalSteps));
      },
    });
    const after = await scorer.score(dataset.examples, weights);
    const heldOut =
      extra.heldOut && heldOutBefore
        ? { before: heldOutBefore, after: await scorer.score(extra.heldOut.examples, weights) }
        : null;
    return { reference, after, heldOut };
  } finally {
    await scorer.release();
  }
}

interface HeldOutScores {
  before: PairLogProbs;
  after: PairLogProbs;
}

export async function trainDpo(input: TrainDpoInput): Promise<DpoResult> {
  const started = performance.now();
  const o = resolveDpoOptions(input.options);
  const version = await loadVersion(input.baseVersionDir);
  const { config, weights } = await loadVersionWeights(input.baseVersionDir);
  const datasetOptions = {
    tokenizer: version.tokenizer,
    maxSeqLen: config.maxSeqLen,
    imageSize: config.imageSize,
    resolveImage: input.resolveImage,
    focusWeight: o.focusWeight,
  };
  const dataset = await buildDpoDataset(input.pairs, datasetOptions);
  const heldOut =
    input.heldOut && input.heldOut.length > 0 ? await buildDpoDataset(input.heldOut, datasetOptions) : null;
  if (o.replayWeight > 0 && !input.replay)
    throw new DpoError('DPO_BAD_OPTIONS', 'replayWeight > 0 needs replay samples');
  const replay = o.replayWeight > 0 && input.replay ? await buildReplaySet(input.replay, datasetOptions) : [];
  const data = dataCounts(input.pairs, dataset);
  if (dataset.examples.length === 0)
    throw new DpoError('DPO_NO_PAIRS', `no usable pair among ${input.pairs.length}: ${JSON.stringify(data)}`);

  const steps: DpoStepStats[] = [];
  const scores = await trainAndScore(config, dataset, weights, o, input, steps, { replay, heldOut });
  const summary = summarize(steps, scores.reference, scores.after, {
    beta: o.beta,
    summaryWindow: o.summaryWindow,
    minutes: (performance.now() - started) / 60000,
    heldOut: scores.heldOut,
  });
  await mkdir(input.outDir, { recursive: true });
  const versionDir = join(input.outDir, 'version');
  const baseCardPath = join(input.baseVersionDir, 'model-card.md');
  const baseCard = existsSync(baseCardPath) ? await readFile(baseCardPath, 'utf8') : '# chexpo-tiny\n';
  await writeVersion(versionDir, {
    config,
    weights,
    tokenizer: version.tokenizer,
    modelCard: baseCard + modelCardSection(input.baseVersionDir, o, data, summary),
  });
  const metricsPath = join(input.outDir, 'dpo-metrics.json');
  const metrics = { base_version: input.baseVersionDir, config: o, data, summary, steps };
  await writeFile(metricsPath, `${JSON.stringify(metrics, null, 1)}\n`);
  const plotPaths: string[] = [];
  for (const [file, spec] of Object.entries(dpoPlots(steps, o.beta))) {
    plotPaths.push(join(input.outDir, file));
    await writePlot(plotPaths.at(-1)!, spec);
  }
  return { versionDir, metricsPath, plotPaths, summary, data, options: o, steps };
}
