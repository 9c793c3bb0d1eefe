/**
 * The pool that similarity expansion searches: one row per labelled sample with its case's image
 * embedding. Written in batches of ≥ 500 rows because every LanceDB write costs ~15 ms and leaves
 * one fragment; compacting afterwards is the caller's call (`store.compact()`).
 */
import type { InstructionSample, Split } from '../../data/types.ts';
import type { ChexpoStore, PoolSample } from '../../store/contract.ts';
import { MiningError } from './errors.ts';

/** What a pool row needs; a ScoredSample is one. */
export interface PoolEntry {
  sample: InstructionSample;
  embedding: Float32Array;
}

export interface IndexPoolOptions {
  /** Split recorded on every row (default 'train'). */
  split?: Split;
  /** Rows per write, ≥ 500 (default 1000). */
  batchSize?: number;
}

export const MIN_POOL_BATCH = 500;

export function poolRow(entry: PoolEntry, split: Split): PoolSample {
  const s = entry.sample;
  return {
    id: s.id,
    sample_id: s.id,
    case_id: s.case_id,
    task: s.task,
    finding: s.finding ?? null,
    question: s.question,
    answer: s.answer,
    embedding: entry.embedding,
    split,
  };
}

/** Writes one pool row per entry (id = sample id); returns the rows written. */
export async function indexPool(
  store: Pick<ChexpoStore, 'addPool' | 'embeddingDim'>,
  entries: readonly PoolEntry[],
  options: IndexPoolOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < MIN_POOL_BATCH)
    throw new MiningError(
      'BAD_OPTION',
      `pool batchSize must be a whole number ≥ ${MIN_POOL_BATCH}: ${batchSize}`,
    );
  const wrong = entries.find((e) => e.embedding.length !== store.embeddingDim);
  if (wrong)
    throw new MiningError(
      'BAD_DATA',
      `sample ${wrong.sample.id} has a ${wrong.embedding.length}-wide embedding; the store holds ${store.embeddingDim}`,
    );
  const split = options.split ?? 'train';
  for (let i = 0; i < entries.length; i += batchSize)
    await store.addPool(entries.slice(i, i + batchSize).map((e) => poolRow(e, split)));
  return entries.length;
}
