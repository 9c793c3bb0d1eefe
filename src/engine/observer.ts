/**
 * What the engine reports while it serves: occupancy, batches, workers, version changes and each
 * answer's token timings. The engine names no metric; `metricsObserver` adapts these events to metric
 * handles (prom-client `Counter`, `Gauge` and `Histogram` fit the shapes below), and
 * src/server/metrics.ts hands it the catalogue's, as src/store/queue-metrics.ts does for the store.
 */

/** One answer as the metrics see it. */
export interface AnsweredTokens {
  /** Tokens in the answer's token list (a final <eos> excluded). */
  tokens: number;
  /** Each of those tokens' probability. */
  probabilities: readonly number[];
  /** From admission to the first generated token. */
  firstTokenSeconds: number;
  /** Mean time between two generated tokens; absent for an answer of one token. */
  tokenIntervalSeconds?: number;
}

export interface EngineObserver {
  /** Outstanding requests: admitted, not answered yet. */
  outstanding?(count: number): void;
  /** The outstanding requests in a decode batch, and the rest (preprocessing, or queued for a batch). */
  occupancy?(running: number, waiting: number): void;
  /** A worker ran one encoder or decode batch of `size` requests. */
  batch?(stage: 'encode' | 'decode', size: number): void;
  /** Inference workers of the serving version alive now. */
  workersHealthy?(count: number): void;
  /** A dead inference worker is being replaced. */
  workerRestarted?(): void;
  /** A version was refused at `stage` (verify, load); the current one keeps serving. */
  versionRefused?(stage: string): void;
  /** `version` of model `name` serves now, in place of `previous`. */
  versionServed?(name: string, version: string, previous: string | undefined): void;
  answered?(task: string, answer: AnsweredTokens): void;
}

type Labels<K extends string> = { [key in K]: string };

export interface CounterLike<K extends string = never> {
  inc(labels: Labels<K>, value?: number): void;
}

export interface GaugeLike {
  set(value: number): void;
}

export interface LabelledGaugeLike<K extends string> {
  set(labels: Labels<K>, value: number): void;
  remove(labels: Labels<K>): void;
}

export interface HistogramLike<K extends string> {
  observe(labels: Labels<K>, value: number): void;
}

export interface EngineMetricHandles {
  queueLength?: GaugeLike;
  requestsRunning?: GaugeLike;
  requestsWaiting?: GaugeLike;
  batchSize?: HistogramLike<'stage'>;
  workersHealthy?: GaugeLike;
  workerRestarts?: { inc(): void };
  modelLoadFailures?: CounterLike<'stage'>;
  /** 1 for the version served, labelled by model name and version. */
  modelInfo?: LabelledGaugeLike<'name' | 'version'>;
  tokensGenerated?: CounterLike<'task'>;
  timeToFirstToken?: HistogramLike<'task'>;
  timePerOutputToken?: HistogramLike<'task'>;
  tokenProbability?: HistogramLike<'task'>;
}

export function metricsObserver(handles: EngineMetricHandles): EngineObserver {
  return {
    outstanding(count) {
      handles.queueLength?.set(count);
    },
    occupancy(running, waiting) {
      handles.requestsRunning?.set(running);
      handles.requestsWaiting?.set(waiting);
    },
    batch(stage, size) {
      handles.batchSize?.observe({ stage }, size);
    },
    workersHealthy(count) {
      handles.workersHealthy?.set(count);
    },
    workerRestarted() {
      handles.workerRestarts?.inc();
    },
    versionRefused(stage) {
      handles.modelLoadFailures?.inc({ stage });
    },
    versionServed(name, version, previous) {
      if (previous !== undefined) handles.modelInfo?.remove({ name, version: previous });
      handles.modelInfo?.set({ name, version }, 1);
    },
    answered(task, answer) {
      handles.tokensGenerated?.inc({ task }, answer.tokens);
      handles.timeToFirstToken?.observe({ task }, answer.firstTokenSeconds);
      if (answer.tokenIntervalSeconds !== undefined)
        handles.timePerOutputToken?.observe({ task }, answer.tokenIntervalSeconds);
      for (const p of answer.probabilities) handles.tokenProbability?.observe({ task }, p);
    },
  };
}
