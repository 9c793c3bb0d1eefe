/**
 * The one catalogue of Prometheus metrics (`chexpo_<subsystem>_<name>_<unit>`), in a dedicated
 * prom-client Registry per app so tests can build many apps. Labels stay low-cardinality: route
 * templates, status codes, error codes, task, model name/version — never request ids or text.
 */
import { readFileSync } from 'node:fs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type EngineObserver, metricsObserver } from '../engine/observer.ts';

const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RATIO_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

const TOKEN_INTERVAL_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const METRIC_CATALOGUE = {
  buildInfo: {
    kind: 'gauge',
    name: 'chexpo_build_info',
    help: 'Always 1; labels: the chexpo package version and the Node.js version running it.',
    labels: ['version', 'node_version'],
  },
  httpRequests: {
    kind: 'counter',
    name: 'chexpo_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labels: ['method', 'route', 'status_code'],
  },
  httpDuration: {
    kind: 'histogram',
    name: 'chexpo_http_request_duration_seconds',
    help: 'HTTP request latency from arrival to response, by method, route template and status code.',
    labels: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS_S,
  },
  httpErrors: {
    kind: 'counter',
    name: 'chexpo_http_errors_total',
    help: 'Error answers by catalogue code (docs/errors.md).',
    labels: ['code'],
  },
  queueLength: {
    kind: 'gauge',
    name: 'chexpo_engine_queue_requests',
    help: 'Requests waiting for inference.',
    labels: [],
  },
  batchSize: {
    kind: 'histogram',
    name: 'chexpo_engine_batch_size_requests',
    help: 'Requests per inference batch.',
    labels: ['stage'],
    buckets: [1, 2, 4, 8, 16, 32, 64],
  },
  tokensGenerated: {
    kind: 'counter',
    name: 'chexpo_engine_tokens_generated_total',
    help: 'Tokens generated, by task.',
    labels: ['task'],
  },
  timeToFirstToken: {
    kind: 'histogram',
    name: 'chexpo_engine_time_to_first_token_seconds',
    help: 'Time from admission to the first generated token, by task.',
    labels: ['task'],
    buckets: LATENCY_BUCKETS_S,
  },
  timePerOutputToken: {
    kind: 'histogram',
    name: 'chexpo_engine_time_per_output_token_seconds',
    help: 'Mean time between two generated tokens of an answer (first token to last, over the tokens after the first), by task.',
    labels: ['task'],
    buckets: TOKEN_INTERVAL_BUCKETS_S,
  },
  requestsRunning: {
    kind: 'gauge',
    name: 'chexpo_engine_running_requests',
    help: "Requests in a worker's decode batch (as of its latest decode step).",
    labels: [],
  },
  requestsWaiting: {
    kind: 'gauge',
    name: 'chexpo_engine_waiting_requests',
    help: 'Admitted requests not decoding yet: preprocessing, or queued for a batch.',
    labels: [],
  },
  tokenProbability: {
    kind: 'histogram',
    name: 'chexpo_engine_token_probability_ratio',
    help: 'Probability of each generated token.',
    labels: ['task'],
    buckets: RATIO_BUCKETS,
  },
  answerRisk: {
    kind: 'histogram',
    name: 'chexpo_answer_risk_ratio',
    help: 'Calibrated hallucination risk of each answer, by task.',
    labels: ['task'],
    buckets: RATIO_BUCKETS,
  },
  answers: {
    kind: 'counter',
    name: 'chexpo_answer_completed_total',
    help: 'Answers returned, by task (denominator of the flagged rate).',
    labels: ['task'],
  },
  answersFlagged: {
    kind: 'counter',
    name: 'chexpo_answer_flagged_total',
    help: 'Answers flagged as hard examples (risk above CHEXPO_RISK_THRESHOLD), by task.',
    labels: ['task'],
  },
  storeWriteFailures: {
    kind: 'counter',
    name: 'chexpo_store_write_failures_total',
    help: 'Hard-example writes that failed (the request still succeeded), by table.',
    labels: ['table'],
  },
  storeWritesDropped: {
    kind: 'counter',
    name: 'chexpo_store_writes_dropped_total',
    help: 'Hard-example writes dropped because the write queue was full, by table.',
    labels: ['table'],
  },
  modelInfo: {
    kind: 'gauge',
    name: 'chexpo_model_version_info',
    help: 'Served model version (value 1 for the current one).',
    labels: ['name', 'version'],
  },
  workersHealthy: {
    kind: 'gauge',
    name: 'chexpo_engine_workers_healthy',
    help: 'Inference workers alive and serving.',
    labels: [],
  },
  modelLoadFailures: {
    kind: 'counter',
    name: 'chexpo_engine_model_load_failures_total',
    help: 'Model versions refused (failed verification, loading or warm-up); the current one keeps serving.',
    labels: ['stage'],
  },
  workerRestarts: {
    kind: 'counter',
    name: 'chexpo_engine_worker_restarts_total',
    help: 'Inference workers replaced after a crash.',
    labels: [],
  },
  swapDuration: {
    kind: 'histogram',
    name: 'chexpo_engine_swap_duration_seconds',
    help: 'Model version swaps by phase: load (verify, start and warm up the new workers) and drain (the old workers finish and exit).',
    labels: ['phase'],
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  },
  loopRuns: {
    kind: 'counter',
    name: 'chexpo_loop_runs_total',
    help: 'CheXPO loop runs finished, by outcome (promoted|rejected|failed); promotions are outcome="promoted".',
    labels: ['outcome'],
  },
  loopRunDuration: {
    kind: 'histogram',
    name: 'chexpo_loop_run_duration_seconds',
    help: 'Wall-clock time of a loop run (child process start to exit), by outcome.',
    labels: ['outcome'],
    buckets: [60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800],
  },
  loopRunActive: {
    kind: 'gauge',
    name: 'chexpo_loop_run_active',
    help: '1 while a loop run started by this server is in progress, else 0.',
    labels: [],
  },
  loopPairs: {
    kind: 'counter',
    name: 'chexpo_loop_pairs_total',
    help: 'Preference pairs trained on by finished loop runs, by kind (negation, laterality, …).',
    labels: ['kind'],
  },
  loopDpoLoss: {
    kind: 'gauge',
    name: 'chexpo_loop_dpo_final_loss_nats',
    help: 'DPO loss at the last step of the latest run that trained (absent until one has).',
    labels: [],
  },
  loopDpoMargin: {
    kind: 'gauge',
    name: 'chexpo_loop_dpo_final_margin_nats',
    help: 'DPO reward margin (chosen − rejected) at the last step of the latest run that trained (absent until one has).',
    labels: [],
  },
  loopDpoAccuracy: {
    kind: 'gauge',
    name: 'chexpo_loop_dpo_final_accuracy_ratio',
    help: 'Share of pairs whose chosen reward beats the rejected one, at the last step of the latest run that trained (absent until one has).',
    labels: [],
  },
  loopEvalScore: {
    kind: 'gauge',
    name: 'chexpo_loop_eval_score',
    help: "Held-out primary score (from its manifest's eval) of the versions served now: CURRENT and the one this process serves.",
    labels: ['version'],
  },
  loopRollbacks: {
    kind: 'counter',
    name: 'chexpo_loop_rollbacks_total',
    help: 'Moves of CURRENT by POST /v1/admin/rollback.',
    labels: [],
  },
  loopHardExamplesPending: {
    kind: 'gauge',
    name: 'chexpo_loop_hard_examples_pending',
    help: 'Hard examples not yet used by a loop run (status new or labelled), refreshed by the trainer poll.',
    labels: [],
  },
  auditEvents: {
    kind: 'counter',
    name: 'chexpo_audit_events_total',
    help: 'Audit log entries written, by action and outcome.',
    labels: ['action', 'outcome'],
  },
  auditWriteFailures: {
    kind: 'counter',
    name: 'chexpo_audit_write_failures_total',
    help: 'Audit log entries that could not be written (logged; serving continues).',
    labels: [],
  },
} as const;

type Catalogue = typeof METRIC_CATALOGUE;
type LabelsOf<K extends keyof Catalogue> = Catalogue[K]['labels'][number];
type MetricOf<K extends keyof Catalogue> = Catalogue[K]['kind'] extends 'counter'
  ? Counter<LabelsOf<K>>
  : Catalogue[K]['kind'] extends 'gauge'
    ? Gauge<LabelsOf<K>>
    : Histogram<LabelsOf<K>>;

export type Metrics = { readonly registry: Registry } & { readonly [K in keyof Catalogue]: MetricOf<K> };

/** Gauges that hold a value only once one is known: no sample (rather than 0) before the first set(). */
const UNSET_UNTIL_OBSERVED: ReadonlySet<string> = new Set([
  'chexpo_loop_dpo_final_loss_nats',
  'chexpo_loop_dpo_final_margin_nats',
  'chexpo_loop_dpo_final_accuracy_ratio',
]);

/** A label-free gauge whose sample appears at the first set() (prom-client starts those at 0). */
class UnsetGauge extends Gauge<string> {
  override reset(): void {
    (this as unknown as { hashMap: Record<string, unknown> }).hashMap = {};
  }
}

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A fresh registry holding every catalogue metric plus Node's default process metrics. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const metrics: Record<string, unknown> = { registry };
  for (const [key, spec] of Object.entries(METRIC_CATALOGUE)) {
    const common = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
    metrics[key] =
      spec.kind === 'counter'
        ? new Counter(common)
        : spec.kind === 'gauge'
          ? new (UNSET_UNTIL_OBSERVED.has(spec.name) ? UnsetGauge : Gauge)(common)
          : new Histogram({ ...common, buckets: [...spec.buckets] });
  }
  const built = metrics as Metrics;
  built.buildInfo.set({ version: PACKAGE_VERSION, node_version: process.version }, 1);
  return built;
}

/** Answer-level numbers, recorded by the answer route; token-level ones are the engine's to record. */
export function observeAnswer(
  metrics: Metrics,
  answer: { risk: number; flagged: boolean },
  task: string,
): void {
  metrics.answers.inc({ task });
  metrics.answerRisk.observe({ task }, answer.risk);
  if (answer.flagged) metrics.answersFlagged.inc({ task });
}

/** The engine's observer (src/engine/observer.ts), recording into the catalogue's engine metrics. */
export function engineObserver(metrics: Metrics): EngineObserver {
  return metricsObserver({
    queueLength: metrics.queueLength,
    requestsRunning: metrics.requestsRunning,
    requestsWaiting: metrics.requestsWaiting,
    batchSize: metrics.batchSize,
    workersHealthy: metrics.workersHealthy,
    workerRestarts: metrics.workerRestarts,
    modelLoadFailures: metrics.modelLoadFailures,
    modelInfo: metrics.modelInfo,
    tokensGenerated: metrics.tokensGenerated,
    timeToFirstToken: metrics.timeToFirstToken,
    timePerOutputToken: metrics.timePerOutputToken,
    tokenProbability: metrics.tokenProbability,
  });
}
