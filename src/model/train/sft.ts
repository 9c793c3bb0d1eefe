/**
 * Supervised fine-tuning of chexpo-tiny on instruction samples: the SFT loss graph in the shared training
 * loop, validation loss at each epoch's end, and a version directory at the end.
 */

import { FINDING_KEYS } from '../../data/types.ts';
import { toBytes } from '../graph/index.ts';
import { type Feeds, OrtSession, ortTensor } from '../ort/session.ts';
import type { VlmConfig } from '../vlm/config.ts';
import { collate } from '../vlm/tokens.ts';
import { buildScoreGraph, buildSftGraph } from '../vlm/training.ts';
import { parameterSpecs, type Weights } from '../vlm/weights.ts';
import { type DatasetExample, epochBatches, type LoadedSplit } from './dataset.ts';
import type { TrainingProgram } from './run-training.ts';

/** (B, 1, S, S) images and (B, T) token tensors for a list of examples. */
export function sequenceFeeds(split: LoadedSplit, examples: DatasetExample[], imageSize: number): Feeds {
  const batch = collate(examples.map((e) => e.sequence));
  const pixels = imageSize * imageSize;
  const images = new Float32Array(examples.length * pixels);
  examples.forEach((e, i) => {
    images.set(split.images.get(e.sample.case_id)!, i * pixels);
  });
  const f = FINDING_KEYS.length;
  const labels = new Float32Array(examples.length * f);
  const mask = new Float32Array(examples.length * f);
  examples.forEach((e, i) => {
    const t = split.findings?.get(e.sample.case_id);
    if (!t) return;
    labels.set(t.labels, i * f);
    mask.set(t.mask, i * f);
  });
  return {
    finding_labels: ortTensor('float32', labels, [examples.length, f]),
    finding_mask: ortTensor('float32', mask, [examples.length, f]),
    image: ortTensor('float32', images, [examples.length, 1, imageSize, imageSize]),
    input_ids: ortTensor('int64', batch.inputIds, [batch.batch, batch.length]),
    target_ids: ortTensor('int64', batch.targetIds, [batch.batch, batch.length]),
    loss_mask: ortTensor('float32', batch.lossMask, [batch.batch, batch.length]),
  };
}

export function sftProgram(
  config: VlmConfig,
  train: LoadedSplit,
  batchSize: number,
  seed: number,
  findingLossWeight = 0,
): TrainingProgram<DatasetExample[]> {
  const lengths = train.examples.map((e) => e.sequence.inputIds.length);
  const withFindings = Boolean(config.findingHead) && findingLossWeight > 0;
  return {
    graph: toBytes(buildSftGraph(config, { findingLossWeight }), { parametersAs: 'inputs' }),
    ...(withFindings ? { statOutputs: ['finding_loss'] } : {}),
    batches: (epoch) =>
      epochBatches(lengths, batchSize, seed, epoch).map((b) => b.map((i) => train.examples[i])),
    feeds: (examples) => sequenceFeeds(train, examples, config.imageSize),
    tokens: (examples) => examples.reduce((n, e) => n + config.imageTokens + e.sequence.inputIds.length, 0),
  };
}

export function parameterShapes(config: VlmConfig): Record<string, number[]> {
  return Object.fromEntries(parameterSpecs(config).map((s) => [s.name, s.shape]));
}

/** Mean answer-token negative log-likelihood over a split (the validation loss). */
export class SplitScorer {
  private readonly session: OrtSession;
  private readonly config: VlmConfig;
  private constructor(session: OrtSession, config: VlmConfig) {
    this.session = session;
    this.config = config;
  }

  static async create(config: VlmConfig, intraOpThreads = 0): Promise<SplitScorer> {
    const graph = toBytes(buildScoreGraph(config), { parametersAs: 'inputs' });
    return new SplitScorer(await OrtSession.create(graph, { intraOpThreads }), config);
  }

  async meanNll(split: LoadedSplit, weights: Weights, batchSize = 32): Promise<number> {
    const shapes = parameterShapes(this.config);
    const lengths = split.examples.map((e) => e.sequence.inputIds.length);
    const order = Array.from(lengths, (_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
    let nll = 0;
    let tokens = 0;
    for (let i = 0; i < order.length; i += batchSize) {
      const examples = order.slice(i, i + batchSize).map((k) => split.examples[k]);
      const feeds = sequenceFeeds(split, examples, this.config.imageSize);
      for (const [name, w] of Object.entries(weights)) feeds[name] = ortTensor('float32', w, shapes[name]);
      const out = await this.session.run(feeds, ['sequence_logprob', 'token_count']);
      for (const lp of out.sequence_logprob.data as Float32Array) nll -= lp;
      tokens += (out.token_count.data as Float32Array)[0];
    }
    return tokens > 0 ? nll / tokens : Number.NaN;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
