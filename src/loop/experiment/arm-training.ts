/**
 * Training one DPO arm of the ablation: mining a model's selections (and its held-out validation
 * selection), a DPO run with SFT replay and held-out pairs, and the full loop as rounds, each round
 * re-mined from the previous round's model with that model as the reference.
 */
import { join } from 'node:path';
import { Rng } from '../../data/random.ts';
import { openVersion, type SplitData, selectSamples } from '../../inference/offline/index.ts';
import { LanceStore } from '../../store/index.ts';
import { miningExtras } from '../config.ts';
import { type DpoSummary, trainDpo } from '../dpo/index.ts';
import { balanceSelection, dedupeSelection, selectHard } from '../mining/index.ts';
import { ImageResolver, summarizePairs } from '../pairs/index.ts';
import { mineAndSelect } from '../round.ts';
import type { PairCandidate, SelectedSample } from '../types.ts';
import { type ArmName, type ArmSelections, armPairs, takeBudget } from './arms.ts';
import { cached } from './cache.ts';
import { heldOutPairs, heldOutSelection } from './held-out.ts';
import type { ExperimentOptions } from './run-experiment.ts';

export interface RunContext {
  o: ExperimentOptions;
  train: SplitData;
  validation: SplitData;
}

export interface MinedSelections {
  selections: ArmSelections;
  /** The same model's answers on validation samples, the source of held-out pairs. */
  heldOut: SelectedSample[];
  imageSize: number;
  scored: number;
  hard: number;
  retrievalPrecision: number | null;
}

export interface ArmTraining {
  versionDir: string;
  pairs: number;
  pairsByKind: Record<string, number>;
  steps: number;
  tokens: number;
  dpo: DpoSummary[];
}

/** Mining with `modelDir` (pool rows indexed under `versionName`), and the three selections. */
export async function selectionsFor(
  ctx: RunContext,
  modelDir: string,
  versionName: string,
  seed: number,
): Promise<MinedSelections> {
  const { o, train } = ctx;
  const c = { ...o.config, seed };
  const model = await openVersion(modelDir, { threads: c.threads });
  const store = await LanceStore.open({
    uri: join(o.workDir, 'store'),
    embeddingDim: model.version.config.embeddingDim,
  });
  try {
    const sel = await mineAndSelect({
      model,
      baseVersion: versionName,
      store,
      dataDir: o.dataDir,
      train,
      scoredSamples: selectSamples(train.samples, c.mining.limit, seed),
      config: { ...c, live: { ...c.live, enabled: false } },
      runDir: o.workDir,
      stage: async (name, fn) => {
        o.log(`[${versionName} ${name}] …`);
        return fn();
      },
      log: o.log,
      extras: miningExtras(c),
    });
    const hard = selectHard(sel.scored, sel.thresholds);
    const confidence = balanceSelection(dedupeSelection(hard), {
      budget: sel.selected.length,
      capPerCell: c.balance.capPerCell,
      seed,
    });
    const random: SelectedSample[] = Rng.derive(seed, 'experiment:random')
      .shuffle([...sel.scored])
      .slice(0, sel.selected.length)
      .map((scored) => ({ scored, reason: 'low_confidence' }));
    const heldOut = await heldOutSelection(model, o.dataDir, ctx.validation, o.heldOutSamples, seed);
    return {
      selections: { random, confidence, confSim: sel.selected },
      heldOut,
      imageSize: model.version.config.imageSize,
      scored: sel.counts.scored,
      hard: sel.counts.hard,
      retrievalPrecision: sel.retrievalPrecision,
    };
  } finally {
    await model.close();
    await store.close();
  }
}

/** One DPO run of `arm` from `baseDir` on `pairs`, with SFT replay and the arm's held-out pairs. */
export async function trainDpoArm(
  ctx: RunContext,
  arm: ArmName,
  pairs: PairCandidate[],
  heldOut: SelectedSample[],
  at: { baseDir: string; outDir: string; seed: number; imageSize: number },
): Promise<ArmTraining> {
  const { o, train } = ctx;
  const c = o.config;
  const steps = Math.ceil(pairs.length / c.dpo.batchSize) * c.dpo.epochs;
  const replay = Rng.derive(at.seed, `experiment:replay:${arm}`)
    .shuffle([...train.samples])
    .slice(0, steps * c.dpo.replayBatchSize);
  const resolver = new ImageResolver({ dataDir: o.dataDir, imageSize: at.imageSize });
  const summary = await cached(join(at.outDir, 'dpo-summary.json'), async () => {
    const r = await trainDpo({
      baseVersionDir: at.baseDir,
      pairs,
      resolveImage: (ref) => resolver.resolve(ref),
      outDir: at.outDir,
      options: { ...c.dpo, seed: at.seed, intraOpThreads: c.threads },
      replay: {
        dataDir: o.dataDir,
        cases: train.cases,
        samples: replay,
        answerWeight: c.dpo.replayAnswerWeight,
      },
      heldOut: heldOutPairs(arm, heldOut, at.seed, c.pairs),
      onProgress: (line) => o.log(`  ${line}`),
    });
    return r.summary;
  });
  return {
    versionDir: join(at.outDir, 'version'),
    pairs: pairs.length,
    pairsByKind: summarizePairs(pairs).byKind as Record<string, number>,
    steps: summary.steps,
    tokens: summary.tokens,
    dpo: [summary],
  };
}

/**
 * The full loop: `rounds` rounds of the full recipe, each on its share of the budget, each mined
 * afresh by the previous round's model (fresh on-policy answers) and trained with it as reference.
 */
export async function trainFullLoop(
  ctx: RunContext,
  first: MinedSelections,
  budget: number,
  outDir: string,
): Promise<ArmTraining> {
  const { o } = ctx;
  const c = o.config;
  const perRound = Math.ceil(budget / o.rounds);
  let baseDir = o.modelDir;
  const total: ArmTraining = { versionDir: baseDir, pairs: 0, pairsByKind: {}, steps: 0, tokens: 0, dpo: [] };
  for (let r = 0; r < o.rounds; r++) {
    const seed = c.seed + r;
    const name = `full_loop-r${r + 1}`;
    o.log(`  -- ${name} from ${baseDir}`);
    const roundDir = join(outDir, `round-${r + 1}`);
    // A finished round is read back without mining again, so an interrupted loop resumes cheaply.
    const round = await cached(join(roundDir, 'round.json'), async () => {
      const sel = r === 0 ? first : await selectionsFor(ctx, baseDir, name, seed);
      const pairs = takeBudget(armPairs('full_loop', sel.selections, seed, c.pairs), perRound, seed, name);
      return trainDpoArm(ctx, 'full_loop', pairs, sel.heldOut, {
        baseDir,
        outDir: roundDir,
        seed,
        imageSize: first.imageSize,
      });
    });
    baseDir = round.versionDir;
    total.versionDir = round.versionDir;
    total.pairs += round.pairs;
    total.steps += round.steps;
    total.tokens += round.tokens;
    total.dpo.push(...round.dpo);
    for (const [k, n] of Object.entries(round.pairsByKind))
      total.pairsByKind[k] = (total.pairsByKind[k] ?? 0) + n;
  }
  return total;
}
