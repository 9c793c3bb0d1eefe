import { Rng } from '../../../src/data/random.ts';
import { toBytes } from '../../../src/model/graph/index.ts';
import { type Feeds, OrtSession, ortTensor } from '../../../src/model/ort/session.ts';
import { TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import {
  buildDecodeStepGraph,
  buildEncoderGraph,
  buildPrefillGraph,
  servingBytes,
} from '../../../src/model/vlm/serving.ts';
import { initWeights, parameterSpecs, type Weights } from '../../../src/model/vlm/weights.ts';

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

/** The serving encoder's image tokens for two seeded random images. */
export async function encodedImageTokens(
  config: VlmConfig,
  weights: Weights,
  seed: number,
): Promise<Float32Array> {
  const sessions = await servingSessions(config, weights);
  const s = config.imageSize;
  const out = await sessions.encoder.run(
    { image: ortTensor('float32', randomImages(config, 2, seed), [2, 1, s, s]) },
    ['image_tokens'],
  );
  await Promise.all(Object.values(sessions).map((x) => x.release()));
  return out.image_tokens.data as Float32Array;
}

export { toBytes };

/** initWeights plus noise on every value (biases and norms included) so no gradient is trivially 0. */
export function jitteredWeights(weights: Weights, scale: number, seed: number): Weights {
  const out: Weights = {};
  for (const [name, w] of Object.entries(weights)) {
    const rng = Rng.derive(seed, name);
    out[name] = Float32Array.from(w, (v) => v + rng.normal(0, scale));
  }
  return out;
}

/**
 * TEST_TINY with larger-than-init weights, so logits are far from uniform and greedy choices are not
 * near-ties: the shared fixture of the decoding tests.
 */
export function decodingFixture(): {
  config: typeof TEST_TINY;
  weights: Weights;
  serving: ReturnType<typeof servingSessions>;
} {
  const weights = jitteredWeights(initWeights(TEST_TINY, 21), 0.3, 21);
  return { config: TEST_TINY, weights, serving: servingSessions(TEST_TINY, weights) };
}

export interface Tolerance {
  eps: number;
  rtol: number;
  atol: number;
}

export const FLOAT64_TOLERANCE: Tolerance = { eps: 1e-6, rtol: 1e-5, atol: 1e-9 };

/**
 * Central differences of `loss` at the given coordinates of each parameter against the `grad.<name>`
 * outputs of one run. Returns the failures (empty = pass) and how many coordinates were checked.
 */
export async function checkParameterGradients(
  session: OrtSession,
  config: VlmConfig,
  weights: Weights,
  data: Feeds,
  picks: Record<string, number[]>,
  dtype: 'float32' | 'float64',
  tol: Tolerance,
): Promise<{ failures: string[]; checked: number; maxRelErr: number }> {
  const base = weightFeeds(config, weights, dtype);
  const shapes = new Map(parameterSpecs(config).map((s) => [s.name, s.shape]));
  const out = await session.run({ ...base, ...data });
  const failures: string[] = [];
  let checked = 0;
  let maxRelErr = 0;
  for (const [name, coords] of Object.entries(picks)) {
    const analytic = out[`grad.${name}`].data as Float32Array | Float64Array;
    for (const k of coords) {
      const lossAt = async (delta: number) => {
        const w = (base[name].data as Float32Array | Float64Array).slice();
        w[k] += delta;
        const t =
          dtype === 'float32'
            ? ortTensor('float32', w as Float32Array, shapes.get(name)!)
            : ortTensor('float64', w as Float64Array, shapes.get(name)!);
        const r = await session.run({ ...base, ...data, [name]: t }, ['loss']);
        return Number((r.loss.data as Float32Array | Float64Array)[0]);
      };
      const fd = ((await lossAt(tol.eps)) - (await lossAt(-tol.eps))) / (2 * tol.eps);
      const an = analytic[k];
      const err = Math.abs(fd - an);
      checked += 1;
      maxRelErr = Math.max(maxRelErr, err / Math.max(Math.abs(fd), Math.abs(an), 1e-12));
      if (!(err <= tol.atol + tol.rtol * Math.max(Math.abs(fd), Math.abs(an))))
        failures.push(`${name}[${k}]: finite difference ${fd}, autodiff ${an}`);
    }
  }
  return { failures, checked, maxRelErr };
}
