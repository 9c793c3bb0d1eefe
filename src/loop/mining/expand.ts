/**
 * Similarity expansion: for every hard example (a hard benchmark sample, or a live one), retrieve
 * its nearest labelled neighbours from the pool and keep those the current model also gets wrong
 * or is unsure of.
 *
 * Distance: cosine distance (1 − cos θ) on the encoder's pooled image embedding. The embedding is
 * L2-normalised, so cosine ranks exactly as Euclidean distance does (‖a − b‖² = 2d for unit
 * vectors), and it keeps ranking right if a producer forgets to normalise or fp16 rounding leaves
 * ‖a‖ ≠ 1; the direction of a pooled transformer embedding carries the image content, its length
 * mostly exposure and noise. The store's search is exact (no ANN index at this pool size).
 *
 * Prefilter (SQL, before ranking): the neighbour must be asked the same task about the same finding
 * when the seed has them — the model's failure is a (image, question) property, and an image that
 * looks like a missed effusion says little about a cardiomegaly question on it. The seed's own row
 * and the other questions of its own case are excluded (same image: not a similar *case*).
 *
 * Retrieval precision = the share of judged neighbours (within maxDistance, score known) that are
 * really hard — including neighbours that were already hard seeds themselves, which are retrieval
 * successes even though they add nothing new. Neighbours the lookup does not know are counted as
 * `unknown` and neither kept nor judged: they say nothing about retrieval quality, only about how
 * much of the pool was scored. `kept / retrieved` (the yield) is reported too.
 */
import type { FindingKey, TaskType } from '../../data/types.ts';
import type { ChexpoStore, HardExampleTask, PoolSample } from '../../store/contract.ts';
import { sqlAnd, sqlString } from '../../store/sql.ts';
import type { ScoredSample, SelectedSample } from '../types.ts';
import { isHard, MINING_TASKS, type Thresholds } from './criterion.ts';
import { MiningError } from './errors.ts';

export type SeedSource = 'benchmark' | 'live';

export interface ExpansionSeed {
  id: string;
  source: SeedSource;
  embedding: Float32Array;
  /** Prefilters neighbours to this task when it is an instruction task (a live 'vqa' does not). */
  task?: HardExampleTask;
  finding?: FindingKey | null;
  /** The seed's own case (benchmark seeds): its other questions are not neighbours. */
  caseId?: string;
}

/** The scored samples of some pool rows, by pool row id; rows it leaves out are "unknown". */
export type NeighbourLookup = (
  rows: readonly PoolSample[],
) => ReadonlyMap<string, ScoredSample> | Promise<ReadonlyMap<string, ScoredSample>>;

/** A lookup over samples already scored (pool id = sample id). */
export function lookupFrom(scored: readonly ScoredSample[]): NeighbourLookup {
  const byId = new Map(scored.map((s) => [s.sample.id, s]));
  return (rows) => {
    const out = new Map<string, ScoredSample>();
    for (const r of rows) {
      const s = byId.get(r.id);
      if (s) out.set(r.id, s);
    }
    return out;
  };
}

/** Seeds from hard benchmark samples. */
export function benchmarkSeeds(hard: readonly SelectedSample[]): ExpansionSeed[] {
  return hard.map(({ scored }) => ({
    id: scored.sample.id,
    source: 'benchmark',
    embedding: scored.embedding,
    task: scored.sample.task,
    finding: scored.sample.finding ?? null,
    caseId: scored.sample.case_id,
  }));
}

export interface ExpandOptions {
  /** Neighbours retrieved per seed (after the prefilter). */
  k: number;
  /** Cosine distance beyond which a neighbour is dropped (in [0, 2]). */
  maxDistance: number;
  /** The current model's thresholds: a neighbour is kept when it is hard under them. */
  thresholds: Readonly<Thresholds>;
  /** Extra SQL prefilter on the pool, e.g. `split = 'train'`. */
  where?: string;
  /** Filter by the seed's task and finding (default true). */
  prefilter?: boolean;
  /** Sample ids already selected (default: the seeds' ids); retrieved again, they count as hard, not kept. */
  alreadySelected?: Iterable<string>;
}

export interface ExpansionStats {
  seeds: number;
  /** Distinct neighbours within maxDistance. */
  retrieved: number;
  /** Neighbours beyond maxDistance (dropped). */
  tooFar: number;
  /** Retrievals of a neighbour another seed had already retrieved (counted once, for its nearest seed). */
  duplicates: number;
  alreadySelected: number;
  unknown: number;
  /** retrieved − unknown. */
  judged: number;
  /** Judged neighbours that are wrong or unsure (already-selected ones included). */
  hard: number;
  kept: number;
  /** hard / judged; null when nothing was judged. */
  precision: number | null;
  /** kept / retrieved; null when nothing was retrieved. */
  yield: number | null;
}

export interface ExpansionResult {
  selected: SelectedSample[];
  overall: ExpansionStats;
  bySource: Record<SeedSource, ExpansionStats>;
}

function emptyStats(): ExpansionStats {
  return {
    seeds: 0,
    retrieved: 0,
    tooFar: 0,
    duplicates: 0,
    alreadySelected: 0,
    unknown: 0,
    judged: 0,
    hard: 0,
    kept: 0,
    precision: null,
    yield: null,
  };
}

function finish(s: ExpansionStats): ExpansionStats {
  s.judged = s.retrieved - s.unknown;
  s.precision = s.judged === 0 ? null : s.hard / s.judged;
  s.yield = s.retrieved === 0 ? null : s.kept / s.retrieved;
  return s;
}

/** Task of a seed as an instruction task, when it is one. */
export function seedTask(seed: ExpansionSeed): TaskType | undefined {
  return seed.task !== undefined && (MINING_TASKS as readonly string[]).includes(seed.task)
    ? (seed.task as TaskType)
    : undefined;
}

/** The SQL prefilter of one seed's search. */
export function seedFilter(seed: ExpansionSeed, options: Pick<ExpandOptions, 'where' | 'prefilter'>): string {
  const task = seedTask(seed);
  const prefilter = options.prefilter ?? true;
  return sqlAnd(
    options.where,
    `id <> ${sqlString(seed.id)}`,
    seed.caseId === undefined ? undefined : `case_id <> ${sqlString(seed.caseId)}`,
    prefilter && task ? `task = ${sqlString(task)}` : undefined,
    prefilter && seed.finding ? `finding = ${sqlString(seed.finding)}` : undefined,
  )!;
}

interface Candidate {
  row: PoolSample;
  seed: ExpansionSeed;
  seedIndex: number;
  distance: number;
}

const SEARCH_CONCURRENCY = 4;

export async function expandBySimilarity(
  store: Pick<ChexpoStore, 'nearest'>,
  seeds: readonly ExpansionSeed[],
  lookup: NeighbourLookup,
  options: ExpandOptions,
): Promise<ExpansionResult> {
  if (!Number.isInteger(options.k) || options.k < 1)
    throw new MiningError('BAD_OPTION', `k must be a whole number ≥ 1: ${options.k}`);
  if (!(options.maxDistance >= 0 && options.maxDistance <= 2))
    throw new MiningError('BAD_OPTION', `maxDistance must be in [0, 2]: ${options.maxDistance}`);
  const bySource: Record<SeedSource, ExpansionStats> = { benchmark: emptyStats(), live: emptyStats() };
  const overall = emptyStats();
  const already = new Set(options.alreadySelected ?? seeds.map((s) => s.id));
  const candidates = new Map<string, Candidate>();
  // Searches run a few at a time (each is an exact scan on the store's own threads); results are
  // folded in seed order, so the outcome is the same as one at a time.
  const search = (seed: ExpansionSeed) =>
    store.nearest('pool', seed.embedding, { k: options.k, where: seedFilter(seed, options) });
  const inFlight = new Map<number, ReturnType<typeof search>>();
  const prefetch = (i: number) => {
    if (i >= seeds.length || inFlight.has(i)) return;
    const pending = search(seeds[i]);
    pending.catch(() => undefined); // awaited below; a failure after an earlier one must not go unhandled
    inFlight.set(i, pending);
  };
  for (let i = 0; i < SEARCH_CONCURRENCY; i++) prefetch(i);
  for (const [seedIndex, seed] of seeds.entries()) {
    bySource[seed.source].seeds++;
    overall.seeds++;
    prefetch(seedIndex);
    const neighbours = await inFlight.get(seedIndex)!;
    inFlight.delete(seedIndex);
    prefetch(seedIndex + SEARCH_CONCURRENCY);
    for (const { row, distance } of neighbours) {
      if (distance > options.maxDistance) {
        bySource[seed.source].tooFar++;
        overall.tooFar++;
        continue;
      }
      const seen = candidates.get(row.id);
      if (seen) {
        overall.duplicates++;
        bySource[seed.source].duplicates++;
        if (distance >= seen.distance) continue;
      }
      candidates.set(row.id, { row, seed, seedIndex, distance });
    }
  }
  const fresh = [...candidates.values()].filter((c) => !already.has(c.row.id));
  const scored = await lookup(fresh.map((c) => c.row));
  const kept: Candidate[] = [];
  for (const c of candidates.values()) {
    const stats = [overall, bySource[c.seed.source]];
    for (const s of stats) s.retrieved++;
    if (already.has(c.row.id)) {
      for (const s of stats) {
        s.alreadySelected++;
        s.hard++;
      }
      continue;
    }
    const known = scored.get(c.row.id);
    if (!known) {
      for (const s of stats) s.unknown++;
      continue;
    }
    if (!isHard(known, options.thresholds)) continue;
    for (const s of stats) {
      s.hard++;
      s.kept++;
    }
    kept.push(c);
  }
  kept.sort(
    (a, b) => a.seedIndex - b.seedIndex || a.distance - b.distance || a.row.id.localeCompare(b.row.id),
  );
  return {
    selected: kept.map((c) => ({
      scored: scored.get(c.row.id)!,
      reason: c.seed.source === 'live' ? 'similar_to_live' : 'similar_to_hard',
      neighbourOf: { id: c.seed.id, distance: c.distance },
    })),
    overall: finish(overall),
    bySource: { benchmark: finish(bySource.benchmark), live: finish(bySource.live) },
  };
}
