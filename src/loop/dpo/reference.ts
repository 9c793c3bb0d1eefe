/**
 * Summed answer log-probs π(y | x, image) of both sides of every pair, from the score graph: the same
 * `sequence_logprob` subgraph the DPO graph differentiates, so with the reference weights as the policy
 * the DPO rewards β(π − ref) start at 0. Run once with the frozen reference weights before training,
 * and again after it to measure how far each side's likelihood moved.
 */
import { toBytes } from '../../model/graph/index.ts';
import { OrtSession, ortTensor } from '../../model/ort/session.ts';
import type { VlmConfig } from '../../model/vlm/config.ts';
import { buildScoreGraph } from '../../model/vlm/training.ts';
import { parameterSpecs, type Weights } from '../../model/vlm/weights.ts';
import type { DpoExample } from './data.ts';
import { type Side, sideFeeds } from './feeds.ts';

/** Per example, in dataset order. */
export interface PairLogProbs {
  chosen: Float32Array;
  rejected: Float32Array;
}

export class PairScorer {
  private readonly session: OrtSession;
  private readonly config: VlmConfig;
  private constructor(session: OrtSession, config: VlmConfig) {
    this.session = session;
    this.config = config;
  }

  static async create(config: VlmConfig, intraOpThreads = 1): Promise<PairScorer> {
    const graph = toBytes(buildScoreGraph(config), { parametersAs: 'inputs' });
    return new PairScorer(await OrtSession.create(graph, { intraOpThreads }), config);
  }

  /** Both sides of every example under `weights`, in batches of similar length. */
  async score(examples: readonly DpoExample[], weights: Weights, batchSize = 16): Promise<PairLogProbs> {
    return {
      chosen: await this.scoreSide(examples, 'chosen', weights, batchSize),
      rejected: await this.scoreSide(examples, 'rejected', weights, batchSize),
    };
  }

  private async scoreSide(
    examples: readonly DpoExample[],
    side: Side,
    weights: Weights,
    batchSize: number,
  ): Promise<Float32Array> {
    const out = new Float32Array(examples.length);
    const order = examples
      .map((_, i) => i)
      .sort((a, b) => examples[a][side].inputIds.length - examples[b][side].inputIds.length);
    const params = Object.fromEntries(
      parameterSpecs(this.config).map((s) => [s.name, ortTensor('float32', weights[s.name], s.shape)]),
    );
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const feeds = {
        ...params,
        ...sideFeeds(
          rows.map((i) => examples[i]),
          side,
          this.config.imageSize,
          '',
        ),
      };
      const logprobs = (await this.session.run(feeds, ['sequence_logprob'])).sequence_logprob
        .data as Float32Array;
      rows.forEach((i, r) => {
        out[i] = logprobs[r];
      });
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Reference log-probs of every pair under frozen `weights` (one short-lived session). */
export async function referenceLogProbs(
  config: VlmConfig,
  weights: Weights,
  examples: readonly DpoExample[],
  o: { batchSize?: number; intraOpThreads?: number } = {},
): Promise<PairLogProbs> {
  const scorer = await PairScorer.create(config, o.intraOpThreads ?? 1);
  try {
    return await scorer.score(examples, weights, o.batchSize);
  } finally {
    await scorer.release();
  }
}
