/**
 * DPO as a TrainingProgram for the shared loop (src/model/train/run-training.ts): the `train_dpo` graph, batches of
 * pairs bucketed by length, and feeds of both sides plus their reference log-probs and pair weights.
 */
import { toBytes } from '../../model/graph/index.ts';
import type { Feeds } from '../../model/ort/session.ts';
import { ortTensor } from '../../model/ort/session.ts';
import { epochBatches } from '../../model/train/dataset.ts';
import type { TrainingProgram } from '../../model/train/run-training.ts';
import type { VlmConfig } from '../../model/vlm/config.ts';
import { buildDpoGraph, DEFAULT_DPO, type DpoOptions } from '../../model/vlm/training.ts';
import type { DpoDataset, DpoExample } from './data.ts';
import { DpoError } from './errors.ts';
import { sequenceFeeds, sideFeeds } from './feeds.ts';
import type { PairLogProbs } from './reference.ts';
import { type ReplayExample, replaySchedule } from './replay.ts';

/** The DPO graph's outputs logged every step (each reduced to its batch mean by the loop). */
export const DPO_STAT_OUTPUTS = [
  'rewards_chosen',
  'rewards_rejected',
  'margins',
  'accuracy',
  'logprob_chosen',
  'logprob_rejected',
] as const;

export interface DpoBatch {
  /** Indices into the dataset's examples. */
  indices: number[];
  /** Indices into the replay set (empty without replay). */
  replay: number[];
}

export interface DpoProgramOptions {
  batchSize: number;
  /** Batch order (with the epoch). */
  seed: number;
  /** Reference log-probs of every example, in dataset order. */
  reference: PairLogProbs;
  dpo?: Partial<DpoOptions>;
  /** SFT samples replayed beside the pairs (needs dpo.replayWeight > 0). */
  replay?: { examples: readonly ReplayExample[]; batchSize: number };
}

export function dpoProgram(
  config: VlmConfig,
  dataset: DpoDataset,
  o: DpoProgramOptions,
): TrainingProgram<DpoBatch> {
  const { examples } = dataset;
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1))
    throw new DpoError('DPO_BAD_OPTIONS', `batch size ${o.batchSize}`);
  if (o.reference.chosen.length !== examples.length || o.reference.rejected.length !== examples.length)
    throw new DpoError('DPO_BAD_OPTIONS', 'reference log-probs do not match the examples');
  // Bucket on the longer side: both sides of a batch are padded to their own longest sequence.
  const lengths = examples.map((e) => e.length);
  const weights = examples.map((e) => e.pair.weight);
  const pick = (indices: number[]): DpoExample[] => indices.map((i) => examples[i]);
  const dpo = { ...DEFAULT_DPO, ...o.dpo };
  const replay = dpo.replayWeight > 0 ? o.replay : undefined;
  if (dpo.replayWeight > 0 && !(replay && replay.examples.length > 0))
    throw new DpoError('DPO_BAD_OPTIONS', 'replayWeight > 0 needs replay examples');
  const replayRows = replay ? replaySchedule(replay.examples.length, replay.batchSize, o.seed) : () => [];
  const stepsPerEpoch = epochBatches(lengths, o.batchSize, o.seed, 0).length;
  const replayFeeds = (rows: number[]): Feeds =>
    replay
      ? sequenceFeeds(
          rows.map((i) => replay.examples[i].sequence),
          rows.map((i) => replay.examples[i].image),
          config.imageSize,
          'replay.',
        )
      : {};
  const vector = (values: ArrayLike<number>, indices: number[]) =>
    ortTensor(
      'float32',
      Float32Array.from(indices, (i) => values[i]),
      [indices.length],
    );
  return {
    graph: toBytes(buildDpoGraph(config, dpo), { parametersAs: 'inputs' }),
    batches: (epoch) =>
      epochBatches(lengths, o.batchSize, o.seed, epoch).map((indices, j) => ({
        indices,
        replay: replayRows(epoch * stepsPerEpoch + j),
      })),
    feeds: ({ indices, replay: rows }): Feeds => ({
      ...replayFeeds(rows),
      ...sideFeeds(pick(indices), 'chosen', config.imageSize, 'chosen.'),
      ...sideFeeds(pick(indices), 'rejected', config.imageSize, 'rejected.'),
      ref_chosen_logprob: vector(o.reference.chosen, indices),
      ref_rejected_logprob: vector(o.reference.rejected, indices),
      pair_weight: vector(weights, indices),
    }),
    tokens: ({ indices, replay: rows }) =>
      rows.reduce((n, i) => n + config.imageTokens + replay!.examples[i].sequence.inputIds.length, 0) +
      indices.reduce(
        (n, i) =>
          n +
          2 * config.imageTokens +
          examples[i].chosen.inputIds.length +
          examples[i].rejected.inputIds.length,
        0,
      ),
    statOutputs: [...DPO_STAT_OUTPUTS],
  };
}
