import { Rng } from '../../../src/data/random.ts';
import { toBytes } from '../../../src/model/graph/index.ts';
import { type Feeds, OrtSession, ortTensor } from '../../../src/model/ort/session.ts';
import type { VlmConfig } from '../../../src/model/vlm/config.ts';
import {
  buildDecodeStepGraph,
  buildEncoderGraph,
  buildPrefillGraph,
  servingBytes,
} from '../../../src/model/vlm/serving.ts';
import { parameterSpecs, type Weights } from '../../../src/model/vlm/weights.ts';

/** Parameters as ORT feeds (float32, or converted to float64 for gradient checks). */
export function weightFeeds(
  config: VlmConfig,
  weights: Weights,
  dtype: 'float32' | 'float64' = 'float32',
): Feeds {
  const feeds: Feeds = {};
  for (const s of parameterSpecs(config)) {
    const w = weights[s.name];
    feeds[s.name] =
      dtype === 'float32'
        ? ortTensor('float32', w, s.shape)
        : ortTensor('float64', Float64Array.from(w), s.shape);
  }
  return feeds;
}

/** Random images (B, 1, S, S) with values like normalised radiographs. */
export function randomImages(config: VlmConfig, batch: number, seed: number): Float32Array {
  const rng = Rng.derive(seed, 'images');
  return Float32Array.from({ length: batch * config.imageSize ** 2 }, () => rng.normal());
}

export interface Sequence {
  inputIds: number[];
  targetIds: number[];
  lossMask: number[];
}

/** A random sequence of `length` text positions with the last `answer` targets masked in. */
export function randomSequence(config: VlmConfig, length: number, answer: number, rng: Rng): Sequence {
  const text = [1, ...Array.from({ length }, () => rng.int(6, config.vocabSize - 1))];
  return {
    inputIds: text.slice(0, -1),
    targetIds: text.slice(1),
    lossMask: text.slice(1).map((_, t) => (t >= length - answer ? 1 : 0)),
  };
}

/** SFT feeds for equal-length sequences. */
export function sequenceFeeds(
  config: VlmConfig,
  images: Float32Array,
  seqs: readonly Sequence[],
  prefix = '',
  dtype: 'float32' | 'float64' = 'float32',
): Feeds {
  const b = seqs.length;
  const t = seqs[0].inputIds.length;
  const s = config.imageSize;
  const float = (xs: ArrayLike<number>) =>
    dtype === 'float32'
      ? ortTensor('float32', Float32Array.from(xs), [b, t])
      : ortTensor('float64', Float64Array.from(xs), [b, t]);
  return {
    [`${prefix}image`]:
      dtype === 'float32'
        ? ortTensor('float32', images, [b, 1, s, s])
        : ortTensor('float64', Float64Array.from(images), [b, 1, s, s]),
    [`${prefix}input_ids`]: ortTensor(
      'int64',
      BigInt64Array.from(seqs.flatMap((q) => q.inputIds).map(BigInt)),
      [b, t],
    ),
    [`${prefix}target_ids`]: ortTensor(
      'int64',
      BigInt64Array.from(seqs.flatMap((q) => q.targetIds).map(BigInt)),
      [b, t],
    ),
    [`${prefix}loss_mask`]: float(seqs.flatMap((q) => q.lossMask)),
  };
}

export async function trainingSession(bytes: Uint8Array): Promise<OrtSession> {
  return OrtSession.create(bytes, { intraOpThreads: 1 });
}

/** The three serving sessions with `weights` baked in. */
export async function servingSessions(config: VlmConfig, weights: Weights) {
  const make = (g: Parameters<typeof servingBytes>[0]) =>
    OrtSession.create(servingBytes(g, config, weights), { intraOpThreads: 1 });
  return {
    encoder: await make(buildEncoderGraph(config)),
    prefill: await make(buildPrefillGraph(config)),
    step: await make(buildDecodeStepGraph(config)),
  };
}

export type Serving = Awaited<ReturnType<typeof servingSessions>>;

export { toBytes };
