/**
 * Loop metrics on replicas that do not train. Under Kubernetes the trainer is a CronJob and every
 * serving replica has CHEXPO_LOOP_ENABLED=0, so no replica sees a child exit; instead each one reads
 * the shared `runs` table on a timer and counts every finished run once (the counters then equal the
 * table's counts, and the rules take the max over replicas). It also refreshes the pending gauge.
 */
import type { Metrics } from '../metrics.ts';
import { finishedOutcome, observeFinishedRun, PENDING_HARD_EXAMPLES, parseRecord } from './run-metrics.ts';
import type { RunsStore } from './supervisor.ts';

export interface RunObserverOptions {
  store: () => Promise<RunsStore>;
  metrics: Metrics;
  pollMs?: number;
  /** Runs read per poll, most recent first (default 500). */
  limit?: number;
  /** After a newly finished run (e.g. refresh the per-version eval scores). */
  onRunFinished?: () => Promise<void> | void;
  log?: (message: string, details: Record<string, unknown>) => void;
}

export class RunObserver {
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  private readonly options: RunObserverOptions;
  constructor(options: RunObserverOptions) {
    this.options = options;
  }

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 60_000);
    this.timer.unref();
  }

  /** One read of the runs table; returns how many finished runs were new. */
  async poll(): Promise<number> {
    if (this.polling) return 0;
    this.polling = true;
    try {
      const store = await this.options.store();
      this.options.metrics.loopHardExamplesPending.set(
        await store.count('hard_examples', PENDING_HARD_EXAMPLES),
      );
      let fresh = 0;
      for (const run of await store.listRuns({ limit: this.options.limit ?? 500 })) {
        const outcome = finishedOutcome(run.status);
        if (!outcome || this.seen.has(run.id)) continue;
        this.seen.add(run.id);
        const seconds = run.finished_at === null ? 0 : (run.finished_at - run.started_at) / 1000;
        observeFinishedRun(this.options.metrics, outcome, Math.max(0, seconds), parseRecord(run));
        fresh++;
      }
      if (fresh > 0) await this.options.onRunFinished?.();
      return fresh;
    } catch (error) {
      this.options.log?.('loop run observer poll skipped', { error: String(error) });
      return 0;
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
