/**
 * Mining → selection for one run: score a seeded subset of the SFT pool with the current version,
 * pick the hard samples by the token-confidence criterion (thresholds chosen from this run's own
 * error-vs-confidence curve), index the pool's image embeddings for this version, expand hard
 * benchmark samples and live hard examples by similarity (neighbours scored on demand, kept when
 * also hard), and balance the result per finding × task under the budget.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstructionSample } from '../data/types.ts';
import type { OpenedVersion, SplitData } from '../evaluation-run/index.ts';
import { confidenceCurveSpec } from '../plots/mining.ts';
import { writePlot } from '../plots/render.ts';
import type { ChexpoStore, PoolSample } from '../store/contract.ts';
import { sqlString } from '../store/sql.ts';
import type { LoopConfig } from './config.ts';
import {
  balanceSelection,
  benchmarkSeeds,
  caseEmbeddings,
  chooseThresholds,
  dedupeSelection,
  distribution,
  type ExpansionResult,
  expandBySimilarity,
  formatDistribution,
  indexPool,
  type LiveMining,
  readLiveHardExamples,
  scoreSamples,
  selectHard,
  type Thresholds,
} from './mining/index.ts';
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
}

export interface Selection {
  selected: SelectedSample[];
  scored: ScoredSample[];
  thresholds: Thresholds;
  live: LiveMining | null;
  expansion: ExpansionResult | null;
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

  const pairBudget = Math.max(1, Math.floor(ctx.train.samples.length * c.balance.budgetFraction));
  const sampleBudget = Math.ceil(pairBudget / c.pairs.maxPerSample);
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
  return { selected, scored, thresholds: chosen.thresholds, live, expansion };
}
