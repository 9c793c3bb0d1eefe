/**
 * The serving engine: ORT sessions in worker threads (never on the HTTP thread), iteration-level
 * batched greedy generation with a KV cache, token and span confidences, risk, OOD, and the version
 * lifecycle (load, warm-up, swap, drain). See docs/serving.md.
 */
export {
  Engine,
  type EngineAnswer,
  type EngineOptions,
  type ModelStatus,
  type SwapEvent,
  sizeWorkers,
} from './engine.ts';
export { EngineError, type EngineErrorCode } from './errors.ts';
export { mergeBatches } from './merge.ts';
export {
  type AnsweredTokens,
  type EngineMetricHandles,
  type EngineObserver,
  metricsObserver,
} from './observer.ts';
export { intensityStats, type OodReference, oodScore, parseOodReference } from './ood.ts';
export { buildPrompt, listOptions, REPORT_PROMPT, taskTypeOf } from './prompt.ts';
export type { WorkerAnswer, WorkerInit, WorkerRequest } from './protocol.ts';
export { fallbackRisk, type RiskInputs, type RiskModel, riskModel } from './risk.ts';
export { type ScoredAnswer, scoreAnswer } from './spans.ts';
