/**
 * Mining → selection for one run: score a seeded subset of the SFT pool with the current version,
 * pick the hard samples by the token-confidence criterion (thresholds chosen from this run's own
 * error-vs-confidence curve), index the pool's image embeddings for this version, expand hard
 * benchmark samples and live hard examples by similarity (neighbours scored on demand, kept when
 * also hard), and balance the result per finding × task under the budget. Optional extras then run
 * on the selection only (cost ∝ selection): sampled answers for on-policy pairs, and marking the
 * samples whose errors pairs cannot fix (invisible findings, answers the image does not drive).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstructionSample } from '../data/types.ts';
import { visibleFindings } from '../eval/visibility.ts';
import { renderedSize } from '../inference/offline/controls.ts';
import type { OpenedVersion, SplitData } from '../inference/offline/index.ts';
import { confidenceCurveSpec } from '../plots/mining.ts';
import { writePlot } from '../plots/render.ts';
import type { ChexpoStore, PoolSample } from '../store/contract.ts';
import { sqlString } from '../store/sql.ts';
import { type LoopConfig, roundBudget } from './config.ts';
import {
  balanceSelection,
  benchmarkSeeds,
  caseEmbeddings,
  chooseThresholds,
  dedupeSelection,
  distribution,
  type ExpansionResult,
  expandBySimilarity,
  fixableCounts,
  formatDistribution,
  indexPool,
  type LiveMining,
  markFixable,
  readLiveHardExamples,
  sampleAnswers,
  scoreSamples,
  selectHard,
  type Thresholds,
} from './mining/index.ts';
import { usableWrongAnswer } from './pairs/kinds/on-policy.ts';
import type { RunRecordDoc } from './record.ts';
import type { ScoredSample, SelectedSample } from './types.ts';

export interface SelectContext {
  model: OpenedVersion;
  baseVersion: string;
  store: ChexpoStore;
  dataDir: string;
  train: SplitData;
  /** The seeded subset of the SFT pool scored up front. */
  scoredSamples: InstructionSample[];
  config: LoopConfig;
  runDir: string;
  record: RunRecordDoc;
  stage: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  log: (line: string) => void;
  /** Passes over the final selection, each off unless given. */
  extras?: SelectExtras;
}

export interface SelectExtras {
  /** Sample k answers per selected sample (seeded by config.seed) for on-policy pairs. */
  onPolicySamples?: { k: number; temperature: number; topP: number };
  /** Mark selected samples invisible / prior-driven: pairs for them are image counterfactuals only. */
  fixable?: boolean;
}

export interface SelectionExtras {
  /** Sampled answers that are readable and wrong (each a possible on-policy rejection). */
  sampledWrong: number;
  /** Selected samples marked invisible / prior_driven. */
  invisible: number;
  priorDriven: number;
}

export interface Selection {
  selected: SelectedSample[];
  scored: ScoredSample[];
  thresholds: Thresholds;
  live: LiveMining | null;
  expansion: ExpansionResult | null;
  /** Counts of the extras that ran (null when none was asked for). */
  extras: SelectionExtras | null;
}

/** Pool rows of one version: `<version>/<sample id>` (embeddings change with the encoder). */
export function poolPrefix(version: string): string {
  return `${version}/`;
}

/** The SQL filter selecting one version's pool rows. */
function poolFilter(version: string): string {
  return `id LIKE ${sqlString(`${poolPrefix(version)}%`)}`;
}

/** Indexes every training sample's case embedding under this version once; later runs reuse it. */
async function ensurePool(ctx: SelectContext): Promise<number> {
  const prefix = poolPrefix(ctx.baseVersion);
  const existing = await ctx.store.count('pool', poolFilter(ctx.baseVersion));
  if (existing > 0) return existing;
  const embeddings = await caseEmbeddings(ctx.model, ctx.dataDir, ctx.train.cases, ctx.train.samples, {
    batchSize: 32,
  });
  const entries = ctx.train.samples
    .filter((s) => embeddings.has(s.case_id))
    .map((s) => ({ sample: { ...s, id: `${prefix}${s.id}` }, embedding: embeddings.get(s.case_id)! }));
  await indexPool(ctx.store, entries, { batchSize: 5000 });
  await ctx.store.compact().catch((e) => ctx.log(`pool compaction skipped: ${String(e)}`));
  return entries.length;
}

export async function mineAndSelect(ctx: SelectContext): Promise<Selection> {
  const c = ctx.config;
  const rec = ctx.record;
  const scored = await ctx.stage('mining', () =>
    scoreSamples(ctx.model, ctx.dataDir, ctx.train.cases, ctx.scoredSamples, { batchSize: 32 }),
  );
  const chosen = chooseThresholds(scored);
  await writePlot(
    join(ctx.runDir, 'confidence-curve.png'),
    confidenceCurveSpec(chosen.curve, chosen.choices),
  );
  await writeFile(
    join(ctx.runDir, 'thresholds.json'),
    `${JSON.stringify({ thresholds: chosen.thresholds, choices: chosen.choices, curve: chosen.curve }, null, 2)}\n`,
  );
  const hard = selectHard(scored, chosen.thresholds);
  rec.counts.scored = scored.length;
  rec.counts.hard = hard.length;
  ctx.log(
    `mining: ${hard.length} of ${scored.length} scored samples are hard; thresholds ${JSON.stringify(chosen.thresholds)}`,
  );

  const live = c.live.enabled ? await readLiveHardExamples(ctx.store, { limit: c.live.limit }) : null;
  rec.counts.live_seeds = live?.seeds.length ?? 0;

  let expansion: ExpansionResult | null = null;
  if (c.expansion.enabled) {
    const poolRows = await ctx.stage('pool', () => ensurePool(ctx));
    ctx.log(`pool: ${poolRows} samples indexed for ${ctx.baseVersion}`);
    const prefix = poolPrefix(ctx.baseVersion);
    const sampleIdOf = (row: PoolSample) => row.sample_id.slice(prefix.length);
    const known = new Map(scored.map((s) => [s.sample.id, s]));
    const byId = new Map(ctx.train.samples.map((s) => [s.id, s]));
    // Neighbours not scored yet are answered by the current model now (only those retrieved).
    const lookup = async (rows: readonly PoolSample[]) => {
      const missing = rows
        .map((r) => byId.get(sampleIdOf(r)))
        .filter((s): s is InstructionSample => s !== undefined && !known.has(s.id));
      if (missing.length > 0)
        for (const s of await scoreSamples(ctx.model, ctx.dataDir, ctx.train.cases, missing, {
          batchSize: 32,
        }))
          known.set(s.sample.id, s);
      const out = new Map<string, ScoredSample>();
      for (const r of rows) {
        const s = known.get(sampleIdOf(r));
        if (s) out.set(r.id, s);
      }
      return out;
    };
    const seeds = [...benchmarkSeeds(hard), ...(live?.seeds ?? [])];
    expansion = await ctx.stage('expansion', () =>
      expandBySimilarity(ctx.store, seeds, lookup, {
        k: c.expansion.k,
        maxDistance: c.expansion.maxDistance,
        thresholds: chosen.thresholds,
        where: poolFilter(ctx.baseVersion),
        alreadySelected: hard.map((h) => `${prefix}${h.scored.sample.id}`),
      }),
    );
    rec.counts.expanded = expansion.selected.length;
    rec.retrieval_precision = expansion.overall.precision;
    ctx.log(
      `expansion: ${expansion.overall.retrieved} neighbours retrieved, ${expansion.overall.kept} kept, precision ${expansion.overall.precision?.toFixed(3) ?? 'n/a'}`,
    );
  }

  const sampleBudget = roundBudget(ctx.train.samples.length, c).samples;
  const selected = balanceSelection(dedupeSelection([...hard, ...(expansion?.selected ?? [])]), {
    budget: sampleBudget,
    capPerCell: c.balance.capPerCell,
    seed: c.seed,
  });
  const d = distribution(selected);
  rec.counts.selected = selected.length;
  rec.counts.selected_by_cell = Object.fromEntries(
    selected.reduce((m, s) => {
      const key = `${s.scored.sample.finding ?? 'none'}/${s.scored.sample.task}`;
      return m.set(key, (m.get(key) ?? 0) + 1);
    }, new Map<string, number>()),
  );
  await writeFile(join(ctx.runDir, 'selection.txt'), `${formatDistribution(d)}\n`);
  ctx.log(`selection: ${selected.length} samples (budget ${sampleBudget})\n${formatDistribution(d)}`);
  // Extras enrich the samples just selected (same samples, same order); counted apart.
  const enriched = await applyExtras(ctx, selected);
  return {
    selected: enriched.selected,
    scored,
    thresholds: chosen.thresholds,
    live,
    expansion,
    extras: enriched.extras,
  };
}

/** The extras asked for, over the balanced selection (same samples, same order; their scored records enriched). */
async function applyExtras(
  ctx: SelectContext,
  selected: SelectedSample[],
): Promise<{ selected: SelectedSample[]; extras: SelectionExtras | null }> {
  const x = ctx.extras;
  if (!x?.onPolicySamples && !x?.fixable) return { selected, extras: null };
  const cases = ctx.train.cases;
  const batchSize = 32;
  let scored = selected.map((s) => s.scored);
  const extras: SelectionExtras = { sampledWrong: 0, invisible: 0, priorDriven: 0 };
  if (x.onPolicySamples) {
    const o = x.onPolicySamples;
    scored = await ctx.stage('sampling', () =>
      sampleAnswers(ctx.model, ctx.dataDir, cases, scored, { ...o, seed: ctx.config.seed, batchSize }),
    );
    let total = 0;
    let onlyFromSamples = 0;
    for (const s of scored) {
      const g = { sample: s.sample, truth: s.case, chosen: s.sample.target_text };
      const wrong = (s.samples ?? []).filter((t) => usableWrongAnswer(g, t)).length;
      total += s.samples?.length ?? 0;
      extras.sampledWrong += wrong;
      if (wrong > 0 && !s.prediction.prompt_too_long && !usableWrongAnswer(g, s.prediction.text))
        onlyFromSamples++;
    }
    ctx.log(
      `sampling: ${extras.sampledWrong} of ${total} sampled answers (k ${o.k}, T ${o.temperature}, top-p ${o.topP}) are readable and wrong; ${onlyFromSamples} of ${scored.length} samples get an on-policy rejection only from a sample`,
    );
  }
  if (x.fixable) {
    const size = ctx.model.version.config.imageSize;
    scored = await ctx.stage('fixable', async () =>
      markFixable(ctx.model, ctx.dataDir, cases, scored, {
        visibleFindings: visibleFindings(size, { renderSize: await renderedSize(ctx.dataDir) }),
        seed: ctx.config.seed,
        batchSize,
      }),
    );
    const n = fixableCounts(scored);
    extras.invisible = n.invisible;
    extras.priorDriven = n.prior_driven;
    ctx.log(
      `fixable: ${n.yes} of ${scored.length} selected samples fixable; ${n.invisible} invisible at ${size} px, ${n.prior_driven} prior-driven (same answer on another patient's image): image counterfactuals only for those`,
    );
  }
  return { selected: selected.map((s, i) => ({ ...s, scored: scored[i] })), extras };
}
