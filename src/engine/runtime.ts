/**
 * One model version inside a worker: its three ORT sessions (loaded by path; their weights are ONNX
 * external data in weights.safetensors), tokenizer, risk model and OOD reference. Only worker threads
 * create a runtime: session.run() blocks the thread it runs on.
 */
import type { Tokenizer } from '../data/tokenizer/index.ts';
import { type LogitsProcessor, type ServingSessions, suppressTokens } from '../inference/generate.ts';
import { oodScorer, oodScorerFromJson } from '../inference/ood/index.ts';
import { operatingPointBias } from '../inference/operating-point.ts';
import { type RiskModel, riskModel } from '../inference/risk.ts';
import { OrtSession } from '../model/ort/session.ts';
import type { VlmConfig } from '../model/vlm/config.ts';
import { loadVersion } from '../model/vlm/version.ts';
import type { WorkerInit } from './protocol.ts';

export interface ModelRuntime {
  config: VlmConfig;
  tokenizer: Tokenizer;
  sessions: ServingSessions;
  risk: RiskModel;
  /** OOD score in [0, 1] of an image from its embedding and model input (0 without ood.json). */
  ood: (embedding: Float32Array, input: Float32Array) => number;
  /** Framing tokens the model must never generate. */
  processors: LogitsProcessor[];
  /** The version's closed-answer operating point (operating-point.json) as a decoding bias, if any. */
  answerBias?: LogitsProcessor;
}

export async function loadRuntime(init: WorkerInit): Promise<ModelRuntime> {
  const version = await loadVersion(init.versionDir);
  const options = {
    executionProviders: init.executionProvider === 'cuda' ? (['cuda', 'cpu'] as const) : (['cpu'] as const),
    intraOpThreads: init.intraOpThreads,
  };
  const settled = await Promise.allSettled([
    OrtSession.create(version.graphs.encoder, options),
    OrtSession.create(version.graphs.prefill, options),
    OrtSession.create(version.graphs.step, options),
  ]);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    // Release the graphs that did load before failing: a session left to be destroyed while its worker
    // thread is terminated can abort the whole process (a Napi::Error thrown during teardown).
    await Promise.allSettled(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.release()] : [])));
    throw failed.reason;
  }
  const [encoder, prefill, step] = settled.map((s) => (s as PromiseFulfilledResult<OrtSession>).value);
  const t = version.tokenizer;
  return {
    config: version.config,
    tokenizer: t,
    sessions: { encoder, prefill, step },
    risk: riskModel(version.calibrator, oodScorerFromJson(version.ood)?.flagQuantile),
    ood: oodScorer(version.ood, version.config.embeddingDim),
    processors: [suppressTokens([t.padId, t.bosId, t.sepId, t.imageId])],
    answerBias: operatingPointBias(t, version.operatingPoint),
  };
}
