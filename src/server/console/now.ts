/**
 * "Now" for the console, from the server's own metrics: a sampler reads the answer counters and the
 * risk histogram once a minute and keeps an hour of samples, so flag rate, mean risk and answers per
 * minute over the last hour are differences between the newest reading and the oldest sample in the
 * window (as @fastify/under-pressure samples, rather than per-request work). Gauges (workers, queue,
 * trainer) are read as they stand. Before an hour has passed the window is the time since start,
 * and the answer says how long it covers.
 */
import type { Metrics } from '../metrics.ts';

interface Reading {
  at: number;
  answers: number;
  flagged: number;
  riskSum: number;
  riskCount: number;
}

export interface NowSnapshot {
  at: string;
  /** Seconds the rates below cover (up to an hour). */
  window_s: number;
  answers: number;
  answers_per_minute: number;
  /** Flagged share of the window's answers; null without answers. */
  flag_rate: number | null;
  mean_risk: number | null;
  workers_healthy: number;
  queue: { waiting: number; running: number; queued: number };
  model_versions: string[];
  trainer: { run_active: boolean; hard_examples_pending: number | null };
}

export interface NowSamplerOptions {
  metrics: Metrics;
  /** Default 60 s. */
  intervalMs?: number;
  /** Default one hour. */
  windowMs?: number;
  now?: () => number;
}

type Metric = {
  get(): Promise<{ values: { value: number; labels: Record<string, unknown>; metricName?: string }[] }>;
};

async function total(metric: Metric, name?: string): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => name === undefined || v.metricName === name).reduce((s, v) => s + v.value, 0);
}

export class NowSampler {
  private readonly samples: Reading[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  private readonly options: NowSamplerOptions;

  constructor(options: NowSamplerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Takes the first sample and one per interval from then on; the timer never holds the process. */
  async start(): Promise<void> {
    if (this.timer) return;
    await this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async read(): Promise<Reading> {
    const { metrics } = this.options;
    return {
      at: this.now(),
      answers: await total(metrics.answers),
      flagged: await total(metrics.answersFlagged),
      riskSum: await total(metrics.answerRisk, 'chexpo_answer_risk_ratio_sum'),
      riskCount: await total(metrics.answerRisk, 'chexpo_answer_risk_ratio_count'),
    };
  }

  /** Records one sample and drops those older than the window (keeping one at its edge). */
  async sample(): Promise<void> {
    const reading = await this.read();
    this.samples.push(reading);
    const edge = reading.at - (this.options.windowMs ?? 3_600_000);
    while (this.samples.length > 1 && this.samples[1].at <= edge) this.samples.shift();
  }

  async snapshot(): Promise<NowSnapshot> {
    const { metrics } = this.options;
    const current = await this.read();
    const edge = current.at - (this.options.windowMs ?? 3_600_000);
    const base = this.samples.find((s) => s.at >= edge) ?? this.samples[0] ?? current;
    const answers = current.answers - base.answers;
    const windowS = Math.max(0, (current.at - base.at) / 1000);
    const riskCount = current.riskCount - base.riskCount;
    const versions = (await metrics.modelInfo.get()).values
      .filter((v) => v.value === 1)
      .map((v) => String(v.labels.version));
    const pending = (await metrics.loopHardExamplesPending.get()).values[0]?.value;
    return {
      at: new Date(current.at).toISOString(),
      window_s: Math.round(windowS),
      answers,
      answers_per_minute: windowS > 0 ? answers / (windowS / 60) : 0,
      flag_rate: answers > 0 ? (current.flagged - base.flagged) / answers : null,
      mean_risk: riskCount > 0 ? (current.riskSum - base.riskSum) / riskCount : null,
      workers_healthy: await total(metrics.workersHealthy),
      queue: {
        waiting: await total(metrics.requestsWaiting),
        running: await total(metrics.requestsRunning),
        queued: await total(metrics.queueLength),
      },
      model_versions: versions,
      trainer: {
        run_active: (await total(metrics.loopRunActive)) > 0,
        hard_examples_pending: pending === undefined ? null : pending,
      },
    };
  }
}
