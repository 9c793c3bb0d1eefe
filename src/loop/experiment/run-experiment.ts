/**
 * `chexpo experiment`: every arm of the ablation from one seed, on one held-out evaluation subset,
 * each compared with the SFT release and with continued SFT by the paired case bootstrap. Each arm's
 * outputs (trained version, predictions) are kept under the work directory and reused when present, so
 * an interrupted experiment resumes where it stopped.
 *
 * Fairness: every DPO arm gets the same pair budget, DPO settings and SFT replay; continued SFT gets
 * SFT's own recipe for the same number of steps, each step as many sequences as a DPO step; the full
 * loop splits the same budget over its rounds.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random.ts';
import type { InstructionSample, Split } from '../../data/types.ts';
import { fitQuestionOnly, questionOnlyPredictions } from '../../eval/baselines.ts';
import { type Comparison, compareModels, evaluate } from '../../eval/index.ts';
import { readSplit, type SplitData } from '../../inference/offline/index.ts';
import { derangement, type RunPrediction } from '../../inference/offline/run.ts';
import { type LoopConfig, roundBudget } from '../config.ts';
import type { DpoSummary } from '../dpo/index.ts';
import { predictVersion, splitSubset } from '../evaluate-candidate.ts';
import {
  type ArmTraining,
  type RunContext,
  selectionsFor,
  trainDpoArm,
  trainFullLoop,
} from './arm-training.ts';
import { ARM_NAMES, type ArmName, armPairs, isDpoArm, takeBudget } from './arms.ts';
import { cached, keyedDir } from './cache.ts';
import { continueSft } from './sft-continue.ts';

export interface SftRecipe {
  /** SFT's peak learning rate (v0003's last stage: 5e-4), warm-up 10 %, cosine to 10 %. */
  learningRate: number;
  answerWeight: number;
  findingLossWeight: number;
}

export interface ExperimentOptions {
  modelDir: string;
  baseVersion: string;
  dataDir: string;
  workDir: string;
  config: LoopConfig;
  arms: readonly ArmName[];
  /** Where arms are scored: 'test' for the table, 'validation' for choosing settings. */
  evalSplit: Split;
  sft: SftRecipe;
  /** Rounds of the full loop (the budget is split over them). */
  rounds: number;
  /** Validation samples the held-out pairs are made from. */
  heldOutSamples: number;
  log: (line: string) => void;
}

export interface ArmResult {
  arm: ArmName;
  pairs: number;
  pairsByKind: Record<string, number>;
  steps: number;
  /** Image and text positions trained on. */
  tokens: number;
  /** Per DPO run (one per round for the full loop). */
  dpo?: DpoSummary[];
  /** Against the SFT release on the same samples (absent for the SFT row itself). */
  comparison: Comparison;
  /** Against continued SFT on the same samples (when that arm ran). */
  vsContinued: Comparison | null;
  /** The arm's primary score with images permuted across cases (a derangement). */
  permutedPrimary: number;
}

export interface ExperimentResult {
  baseVersion: string;
  /** The experiment's seed (mining subset, pairs, training order, evaluation subset). */
  seed: number;
  evalSplit: Split;
  sftSamples: number;
  budget: number;
  selections: { random: number; confidence: number; confSim: number };
  scored: number;
  hard: number;
  retrievalPrecision: number | null;
  evalSamples: number;
  evalCases: number;
  /** The image-blind baseline (question only, constant list and report, fitted on train). */
  questionOnlyPrimary: number;
  arms: ArmResult[];
  minutes: number;
}

/** The image-blind baseline's primary score on the evaluation samples (fitted on train). */
function questionOnlyPrimary(train: SplitData, evalData: SplitData, samples: InstructionSample[]): number {
  const blind = fitQuestionOnly(train.samples, train.cases);
  const r = evaluate(samples, questionOnlyPredictions(blind, samples), {
    cases: evalData.cases,
    resamples: 0,
  });
  return r.metrics.primary?.value ?? Number.NaN;
}

/** Sequences a DPO step trains on: both sides of every pair, plus the replay batch. */
function sequencesPerStep(c: LoopConfig): number {
  return 2 * c.dpo.batchSize + (c.dpo.replayWeight > 0 ? c.dpo.replayBatchSize : 0);
}

/** Everything an arm's trained weights depend on; the arm's cache directory is keyed by it. */
function armSettings(o: ExperimentOptions, arm: ArmName, budget: number): unknown {
  const c = o.config;
  const common = { base: o.baseVersion, seed: c.seed, budget };
  if (arm === 'sft') return { base: o.baseVersion };
  const steps = { batchSize: c.dpo.batchSize, epochs: c.dpo.epochs, perStep: sequencesPerStep(c) };
  if (arm === 'sft_continued') return { arm, ...common, sft: o.sft, steps };
  return {
    arm,
    ...common,
    mining: c.mining,
    expansion: c.expansion,
    balance: c.balance,
    pairs: c.pairs,
    dpo: c.dpo,
    heldOutSamples: o.heldOutSamples,
    ...(arm === 'full_loop' ? { rounds: o.rounds } : {}),
  };
}

async function continuedSft(
  o: ExperimentOptions,
  train: SplitData,
  budget: number,
  dir: string,
): Promise<{ samples: InstructionSample[]; steps: number; tokens: number }> {
  const c = o.config;
  const batch = sequencesPerStep(c);
  const stepsPerEpoch = Math.ceil(budget / c.dpo.batchSize);
  const picked = Rng.derive(c.seed, 'experiment:sft-continued')
    .shuffle([...train.samples])
    .slice(0, stepsPerEpoch * batch);
  const r = await cached(join(dir, 'steps.json'), () =>
    continueSft({
      baseVersionDir: o.modelDir,
      dataDir: o.dataDir,
      cases: train.cases,
      samples: picked,
      outDir: dir,
      epochs: c.dpo.epochs,
      batchSize: batch,
      learningRate: o.sft.learningRate,
      answerWeight: o.sft.answerWeight,
      findingLossWeight: o.sft.findingLossWeight,
      seed: c.seed,
      threads: c.threads,
    }),
  );
  return { samples: picked, steps: r.steps, tokens: r.tokens };
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const started = performance.now();
  const c = o.config;
  await mkdir(o.workDir, { recursive: true });
  const train = await readSplit(o.dataDir, 'train');
  const validation = await readSplit(o.dataDir, 'validation');
  const ctx: RunContext = { o, train, validation };
  const first = await selectionsFor(ctx, o.modelDir, o.baseVersion, c.seed);
  const s = first.selections;
  // The round's pair budget (loop run's too), then no more than the arm with the fewest pairs has.
  const pairBudget = roundBudget(train.samples.length, c).pairs;
  const dpoArms = o.arms.filter(isDpoArm);
  const pairsByArm = new Map(dpoArms.map((a) => [a, armPairs(a, s, c.seed, c.pairs)]));
  const budget = Math.min(pairBudget, ...[...pairsByArm.values()].map((p) => p.length));
  o.log(
    `pair budget ${budget} (round budget ${pairBudget}; per arm: ${[...pairsByArm].map(([a, p]) => `${a} ${p.length}`).join(', ')})`,
  );

  const { data: evalData, samples } = await splitSubset(o.dataDir, o.evalSplit, c.eval.limit, c.eval.seed);
  const caseIds = [...new Set(samples.map((x) => x.case_id))];
  const permutation = derangement(caseIds, c.eval.seed);
  const evalName = `${o.evalSplit}.${c.eval.limit}.${c.eval.seed}`;
  // Predictions are kept in the arm's keyed directory, named by the evaluation subset.
  const predict = (dir: string, armDir: string, arm: string, permuted = false) =>
    cached(join(armDir, `predictions.${evalName}${permuted ? '.permuted' : ''}.json`), () =>
      predictVersion(
        dir,
        o.dataDir,
        evalData,
        samples,
        c.threads,
        (d, t) => {
          if (d % 1024 < 32)
            o.log(`  ${arm}: ${d}/${t} ${o.evalSplit} answers${permuted ? ' (permuted)' : ''}`);
        },
        permuted ? permutation : undefined,
      ),
    );
  const bootstrap = { cases: evalData.cases, seed: c.eval.seed, resamples: c.eval.resamples };
  const armDir = (arm: ArmName) => keyedDir(o.workDir, arm, armSettings(o, arm, budget));
  const sftDir = await armDir('sft');
  const sft = await predict(o.modelDir, sftDir, 'sft');
  let continued: RunPrediction[] | null = null;
  const finish = async (
    arm: ArmName,
    dir: string,
    versionDir: string,
    t: Omit<ArmResult, 'arm' | 'comparison' | 'vsContinued' | 'permutedPrimary'>,
  ): Promise<ArmResult> => {
    const predictions = await predict(versionDir, dir, arm);
    const permuted = await predict(versionDir, dir, arm, true);
    return {
      arm,
      ...t,
      comparison: compareModels(samples, sft, predictions, bootstrap),
      vsContinued:
        continued && arm !== 'sft_continued'
          ? compareModels(samples, continued, predictions, bootstrap)
          : null,
      permutedPrimary:
        evaluate(samples, permuted, { ...bootstrap, resamples: 0 }).metrics.primary?.value ?? Number.NaN,
    };
  };

  const arms: ArmResult[] = [];
  for (const arm of ARM_NAMES.filter((a) => o.arms.includes(a))) {
    o.log(`== ${arm}`);
    if (arm === 'sft') {
      arms.push(await finish(arm, sftDir, o.modelDir, { pairs: 0, pairsByKind: {}, steps: 0, tokens: 0 }));
      continue;
    }
    const dir = await armDir(arm);
    if (arm === 'sft_continued') {
      const r = await continuedSft(o, train, budget, dir);
      const result = await finish(arm, dir, join(dir, 'version'), {
        pairs: 0,
        pairsByKind: {},
        steps: r.steps,
        tokens: r.tokens,
      });
      continued = await predict(join(dir, 'version'), dir, arm);
      arms.push(result);
      continue;
    }
    const trained: ArmTraining =
      arm === 'full_loop'
        ? await trainFullLoop(ctx, first, budget, dir)
        : await trainDpoArm(ctx, arm, takeBudget(pairsByArm.get(arm)!, budget, c.seed, arm), first.heldOut, {
            baseDir: o.modelDir,
            outDir: dir,
            seed: c.seed,
            imageSize: first.imageSize,
          });
    arms.push(await finish(arm, dir, trained.versionDir, trained));
  }
  return {
    baseVersion: o.baseVersion,
    seed: c.seed,
    evalSplit: o.evalSplit,
    sftSamples: train.samples.length,
    budget,
    selections: { random: s.random.length, confidence: s.confidence.length, confSim: s.confSim.length },
    scored: first.scored,
    hard: first.hard,
    retrievalPrecision: first.retrievalPrecision,
    evalSamples: samples.length,
    evalCases: caseIds.length,
    questionOnlyPrimary: questionOnlyPrimary(train, evalData, samples),
    arms,
    minutes: (performance.now() - started) / 60000,
  };
}
