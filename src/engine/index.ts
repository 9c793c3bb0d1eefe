/**
 * The serving engine: ORT sessions in worker threads (never on the HTTP thread), iteration-level
 * batched greedy generation with a KV cache, and the version lifecycle (load, warm-up, swap, drain).
 * What an answer is made of (generation, confidences, prompt, risk, OOD) is src/inference's. See
 * docs/serving.md.
 */
export { IMAGE_JEMALLOC, JEMALLOC_CONF, type MallocKind, mallocInUse } from './allocator.ts';
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
export { type PreparedRequest, prepareImage, preparePrompt } from './prepare.ts';
export type { WorkerAnswer, WorkerInit, WorkerRequest } from './protocol.ts';
/** One worker's pieces, for measuring its path in-process (bench:serve): its runtime and scheduler. */
export { loadRuntime, type ModelRuntime } from './runtime.ts';
export { Scheduler, type SchedulerEvents } from './scheduler.ts';
