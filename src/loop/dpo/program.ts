/**
 * DPO as a TrainingProgram for the shared loop (src/model/train/loop.ts): the `train_dpo` graph, batches of
 * pairs bucketed by length, and feeds of both sides plus their reference log-probs and pair weights.
 */
import { toBytes } from '../../model/graph/index.ts';
import type { Feeds } from '../../model/ort/session.ts';
import { ortTensor } from '../../model/ort/session.ts';
import { epochBatches } from '../../model/train/dataset.ts';
import type { TrainingProgram } from '../../model/train/loop.ts';
import type { VlmConfig } from '../../model/vlm/config.ts';
import { buildDpoGraph, DEFAULT_DPO, type DpoOptions } from '../../model/vlm/training.ts';
import type { DpoDataset, DpoExample } from './data.ts';
import { DpoError } from './errors.ts';
import { sideFeeds } from './feeds.ts';
import type { PairLogProbs } from './reference.ts';

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
}

export interface DpoProgramOptions {
  batchSize: number;
  /** Batch order (with the epoch). */
  seed: number;
  /** Reference log-probs of every example, in dataset order. */
  reference: PairLogProbs;
  dpo?: Partial<DpoOptions>;
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
  const vector = (values: ArrayLike<number>, indices: number[]) =>
    ortTensor(
      'float32',
      Float32Array.from(indices, (i) => values[i]),
      [indices.length],
    );
  return {
    graph: toBytes(buildDpoGraph(config, { ...DEFAULT_DPO, ...o.dpo }), { parametersAs: 'inputs' }),
    batches: (epoch) => epochBatches(lengths, o.batchSize, o.seed, epoch).map((indices) => ({ indices })),
    feeds: ({ indices }): Feeds => ({
      ...sideFeeds(pick(indices), 'chosen', config.imageSize, 'chosen.'),
      ...sideFeeds(pick(indices), 'rejected', config.imageSize, 'rejected.'),
      ref_chosen_logprob: vector(o.reference.chosen, indices),
      ref_rejected_logprob: vector(o.reference.rejected, indices),
      pair_weight: vector(weights, indices),
    }),
    tokens: ({ indices }) =>
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
