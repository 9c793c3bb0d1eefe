/**
 * Throughput probes for the trainer's benchmark: one SFT step (forward + backward) of a config at a
 * given batch and text length, and ORT's plain MatMul on the same machine (the roofline).
 * Counting convention: 6 × parameters × tokens per step, tokens = batch × (imageTokens + text length).
 */
import { Rng } from '../../data/random.ts';
import { Graph, op, toBytes } from '../graph/index.ts';
import { OrtSession, ortTensor } from '../ort/session.ts';
import type { VlmConfig } from './config.ts';
import { buildSftGraph } from './training.ts';
import { countParameters, initWeights, parameterSpecs } from './weights.ts';

export interface BenchOptions {
  /** Timed runs after `warmup` untimed ones; the median is reported. */
  runs?: number;
  warmup?: number;
  /** ORT intra-op threads (0 = ORT's default). */
  threads?: number;
}

export interface SftBench {
  parameters: number;
  batch: number;
  tokensPerStep: number;
  /** Median wall time of one step, ms. */
  stepMs: number;
  /** Fastest step, ms. */
  minStepMs: number;
  samplesPerSecond: number;
  /** 6 × parameters × tokens / median step time (the convention). */
  gflops: number;
  /** The same at the fastest step. */
  peakGflops: number;
  /** Exact matmul FLOPs of forward + backward (3 × forward) / step time, attention included. */
  matmulGflops: number;
}

export interface MatMulBench {
  m: number;
  k: number;
  n: number;
  /** Median and fastest run, ms. */
  ms: number;
  minMs: number;
  gflops: number;
  peakGflops: number;
}

/**
 * Matmul FLOPs of one forward pass per sample: every linear layer on the tokens it sees (encoder on
 * patches, projector on image tokens, decoder on image + text, tied head on text only) plus attention's
 * QKᵀ and PV products.
 */
export function forwardMatmulFlops(config: VlmConfig, textLength: number): number {
  const patches = (config.imageSize / config.patchSize) ** 2;
  const e = config.encoderDim;
  const d = config.decoderDim;
  const s = config.imageTokens + textLength;
  const linears = (w: number) => w * 3 * w + w * w + 2 * w * config.mlpRatio * w;
  const encoder = patches * (config.patchSize ** 2 * e + config.encoderLayers * linears(e));
  const attention = config.encoderLayers * 2 * patches * patches * e + config.decoderLayers * 2 * s * s * d;
  const projector = config.imageTokens * (e * d + d * d);
  const decoder = s * config.decoderLayers * linears(d) + textLength * d * config.vocabSize;
  return 2 * (encoder + attention + projector + decoder);
}

/** Median and fastest wall time of `run`, ms (on a shared machine the fastest is the least disturbed). */
async function timeRuns(
  run: () => Promise<unknown>,
  o: BenchOptions,
): Promise<{ median: number; min: number }> {
  for (let i = 0; i < (o.warmup ?? 2); i++) await run();
  const times: number[] = [];
  for (let i = 0; i < (o.runs ?? 5); i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

/** One SFT step on random data: image (B,1,H,W), `textLength` tokens of which the last half are answer. */
export async function benchSftStep(
  config: VlmConfig,
  batch: number,
  textLength: number,
  o: BenchOptions = {},
): Promise<SftBench> {
  const session = await OrtSession.create(toBytes(buildSftGraph(config), { parametersAs: 'inputs' }), {
    intraOpThreads: o.threads ?? 0,
  });
  const rng = Rng.derive(1, 'bench');
  const weights = initWeights(config, 1);
  const feeds: Parameters<OrtSession['run']>[0] = {};
  for (const s of parameterSpecs(config)) feeds[s.name] = ortTensor('float32', weights[s.name], s.shape);
  const side = config.imageSize;
  const ids = () =>
    BigInt64Array.from({ length: batch * textLength }, () => BigInt(rng.int(6, config.vocabSize - 1)));
  feeds.image = ortTensor(
    'float32',
    Float32Array.from({ length: batch * side * side }, () => rng.normal()),
    [batch, 1, side, side],
  );
  feeds.input_ids = ortTensor('int64', ids(), [batch, textLength]);
  feeds.target_ids = ortTensor('int64', ids(), [batch, textLength]);
  feeds.loss_mask = ortTensor(
    'float32',
    Float32Array.from({ length: batch * textLength }, (_, i) => (i % textLength >= textLength / 2 ? 1 : 0)),
    [batch, textLength],
  );
  const { median: stepMs, min: minStepMs } = await timeRuns(() => session.run(feeds), o);
  await session.release();
  const parameters = countParameters(config);
  const tokensPerStep = batch * (config.imageTokens + textLength);
  return {
    parameters,
    batch,
    tokensPerStep,
    stepMs,
    minStepMs,
    samplesPerSecond: (1000 * batch) / stepMs,
    gflops: (6 * parameters * tokensPerStep) / (stepMs * 1e6),
    peakGflops: (6 * parameters * tokensPerStep) / (minStepMs * 1e6),
    matmulGflops: (3 * batch * forwardMatmulFlops(config, textLength)) / (stepMs * 1e6),
  };
}

/** Plain float32 (m, k) @ (k, n) in ORT, both operands fed as inputs. */
export async function benchMatMul(
  m: number,
  k: number,
  n: number,
  o: BenchOptions = {},
): Promise<MatMulBench> {
  const g = new Graph('bench_matmul');
  const a = g.input('a', 'float32', [m, k]);
  const b = g.input('b', 'float32', [k, n]);
  g.output(op.matmul(a, b), 'c');
  const session = await OrtSession.create(toBytes(g), { intraOpThreads: o.threads ?? 0 });
  const rng = Rng.derive(2, 'bench-matmul');
  const feeds = {
    a: ortTensor(
      'float32',
      Float32Array.from({ length: m * k }, () => rng.normal()),
      [m, k],
    ),
    b: ortTensor(
      'float32',
      Float32Array.from({ length: k * n }, () => rng.normal()),
      [k, n],
    ),
  };
  const { median: ms, min: minMs } = await timeRuns(() => session.run(feeds), o);
  await session.release();
  const flops = 2 * m * k * n;
  return { m, k, n, ms, minMs, gflops: flops / (ms * 1e6), peakGflops: flops / (minMs * 1e6) };
}
