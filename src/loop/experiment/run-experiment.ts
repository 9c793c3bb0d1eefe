/**
 * `chexpo experiment`: every arm of the ablation from one seed, on one held-out test subset, each
 * compared with the SFT release by the paired case bootstrap. Each arm's outputs (trained version,
 * predictions) are kept under the work directory and reused when present, so an interrupted
 * experiment resumes where it stopped.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random.ts';
import { type Comparison, compareModels } from '../../eval/index.ts';
import {
  openVersion,
  type RunPrediction,
  readSplit,
  type SplitData,
  selectSamples,
} from '../../evaluation-run/index.ts';
import { LanceStore } from '../../store/index.ts';
import type { LoopConfig } from '../config.ts';
import { trainDpo } from '../dpo/index.ts';
import { predictVersion, testSubset } from '../evaluate-candidate.ts';
import { balanceSelection, dedupeSelection, selectHard } from '../mining/index.ts';
import { ImageResolver, summarizePairs } from '../pairs/index.ts';
import { emptyRunRecord, type RunRecordDoc } from '../record.ts';
import { mineAndSelect } from '../select.ts';
import type { SelectedSample } from '../types.ts';
import { ARM_NAMES, type ArmName, type ArmSelections, armPairs, takeBudget } from './arms.ts';
import { continueSft } from './sft-continue.ts';

export interface ExperimentOptions {
  modelDir: string;
  baseVersion: string;
  dataDir: string;
  workDir: string;
  config: LoopConfig;
  arms: readonly ArmName[];
  log: (line: string) => void;
}

export interface ArmResult {
  arm: ArmName;
  pairs: number;
  pairsByKind: Record<string, number>;
  steps: number;
  dpo?: {
    final_accuracy: number;
    final_margin: number;
    logp_chosen_change: number;
    logp_rejected_change: number;
  };
  /** Against the SFT release on the same test samples (absent for the SFT row itself). */
  comparison: Comparison;
}

export interface ExperimentResult {
  baseVersion: string;
  sftSamples: number;
  budget: number;
  selections: { random: number; confidence: number; confSim: number };
  scored: number;
  hard: number;
  retrievalPrecision: number | null;
  testSamples: number;
  testCases: number;
  arms: ArmResult[];
  minutes: number;
}

async function cached<T>(path: string, make: () => Promise<T>): Promise<T> {
  if (existsSync(path)) return JSON.parse(await readFile(path, 'utf8')) as T;
  const value = await make();
  await writeFile(path, JSON.stringify(value));
  return value;
}

async function selections(
  o: ExperimentOptions,
  train: SplitData,
): Promise<{ s: ArmSelections; record: RunRecordDoc; imageSize: number }> {
  const c = o.config;
  const model = await openVersion(o.modelDir, { threads: c.threads });
  const store = await LanceStore.open({
    uri: join(o.workDir, 'store'),
    embeddingDim: model.version.config.embeddingDim,
  });
  const record = emptyRunRecord({
    id: 'experiment',
    trigger: 'experiment',
    status: 'running',
    started_at: Date.now(),
    base_version: o.baseVersion,
  });
  try {
    const sel = await mineAndSelect({
      model,
      baseVersion: o.baseVersion,
      store,
      dataDir: o.dataDir,
      train,
      scoredSamples: selectSamples(train.samples, c.mining.limit, c.seed),
      config: { ...c, live: { ...c.live, enabled: false } },
      runDir: o.workDir,
      record,
      stage: async (name, fn) => {
        o.log(`[${name}] …`);
        return fn();
      },
      log: o.log,
    });
    const hard = selectHard(sel.scored, sel.thresholds);
    const confidence = balanceSelection(dedupeSelection(hard), {
      budget: sel.selected.length,
      capPerCell: c.balance.capPerCell,
      seed: c.seed,
    });
    const random: SelectedSample[] = Rng.derive(c.seed, 'experiment:random')
      .shuffle([...sel.scored])
      .slice(0, sel.selected.length)
      .map((scored) => ({ scored, reason: 'low_confidence' }));
    return {
      s: { random, confidence, confSim: sel.selected },
      record,
      imageSize: model.version.config.imageSize,
    };
  } finally {
    await model.close();
    await store.close();
  }
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const started = performance.now();
  const c = o.config;
  await mkdir(o.workDir, { recursive: true });
  const train = await readSplit(o.dataDir, 'train');
  const { s, record, imageSize } = await selections(o, train);
  const pairBudget = Math.floor(train.samples.length * c.balance.budgetFraction);
  const dpoArms = o.arms.filter((a) => a !== 'sft' && a !== 'sft_continued');
  const pairsByArm = new Map(dpoArms.map((a) => [a, armPairs(a, s, c.seed, c.pairs.maxPerSample)]));
  const budget = Math.min(pairBudget, ...[...pairsByArm.values()].map((p) => p.length));
  o.log(
    `pair budget ${budget} (5% of SFT = ${pairBudget}; per arm: ${[...pairsByArm].map(([a, p]) => `${a} ${p.length}`).join(', ')})`,
  );

  const { data: test, samples } = await testSubset(o.dataDir, c.eval.limit, c.eval.seed);
  const predict = (dir: string, arm: string) =>
    cached(join(o.workDir, `${arm}.predictions.json`), () =>
      predictVersion(dir, o.dataDir, test, samples, c.threads, (d, t) => {
        if (d % 1024 < 32) o.log(`  ${arm}: ${d}/${t} test answers`);
      }),
    );
  const sft = await predict(o.modelDir, 'sft');
  const compare = (p: RunPrediction[]) =>
    compareModels(samples, sft, p, { cases: test.cases, seed: c.eval.seed, resamples: c.eval.resamples });

  const resolver = new ImageResolver({ dataDir: o.dataDir, imageSize });
  const arms: ArmResult[] = [];
  for (const arm of ARM_NAMES.filter((a) => o.arms.includes(a))) {
    const dir = join(o.workDir, arm);
    await mkdir(dir, { recursive: true });
    o.log(`== ${arm}`);
    if (arm === 'sft') {
      arms.push({ arm, pairs: 0, pairsByKind: {}, steps: 0, comparison: compare(sft) });
      continue;
    }
    if (arm === 'sft_continued') {
      const picked = Rng.derive(c.seed, 'experiment:sft-continued')
        .shuffle([...train.samples])
        .slice(0, budget);
      const steps = await cached(join(dir, 'steps.json'), async () => {
        const r = await continueSft({
          baseVersionDir: o.modelDir,
          dataDir: o.dataDir,
          cases: train.cases,
          samples: picked,
          outDir: dir,
          epochs: c.dpo.epochs,
          batchSize: c.dpo.batchSize,
          learningRate: c.dpo.learningRate,
          seed: c.seed,
          threads: c.threads,
        });
        return r.steps;
      });
      const predictions = await predict(join(dir, 'version'), arm);
      arms.push({ arm, pairs: picked.length, pairsByKind: {}, steps, comparison: compare(predictions) });
      continue;
    }
    const pairs = takeBudget(pairsByArm.get(arm)!, budget, c.seed, arm);
    const summary = summarizePairs(pairs);
    const dpo = await cached(join(dir, 'dpo-summary.json'), async () => {
      const r = await trainDpo({
        baseVersionDir: o.modelDir,
        pairs,
        resolveImage: (ref) => resolver.resolve(ref),
        outDir: dir,
        options: { ...c.dpo, seed: c.seed, intraOpThreads: c.threads },
        onProgress: (line) => o.log(`  ${line}`),
      });
      return r.summary;
    });
    const predictions = await predict(join(dir, 'version'), arm);
    arms.push({
      arm,
      pairs: pairs.length,
      pairsByKind: summary.byKind as Record<string, number>,
      steps: dpo.steps,
      dpo,
      comparison: compare(predictions),
    });
  }
  return {
    baseVersion: o.baseVersion,
    sftSamples: train.samples.length,
    budget,
    selections: { random: s.random.length, confidence: s.confidence.length, confSim: s.confSim.length },
    scored: record.counts.scored,
    hard: record.counts.hard,
    retrievalPrecision: record.retrieval_precision,
    testSamples: samples.length,
    testCases: new Set(samples.map((x) => x.case_id)).size,
    arms,
    minutes: (performance.now() - started) / 60000,
  };
}
