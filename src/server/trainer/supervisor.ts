/**
 * The trainer supervisor: at most one `chexpo loop run` child at a time, started by an admin
 * (POST /v1/admin/train), by the clock (CHEXPO_LOOP_INTERVAL_HOURS since the last run started), or by
 * arrivals (CHEXPO_LOOP_MIN_HARD_EXAMPLES hard examples logged since the last run started, polled
 * every minute). When the child exits it reads the run record the child wrote, updates the loop
 * metrics, and, if the child died before finishing its record (crash, OOM kill, timeout, shutdown),
 * marks the run failed in the store so no run stays `running` forever.
 *
 * Timers are unref'd and stopped by close(); close() also SIGTERMs a running child and waits briefly.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { emptyRunRecord, type RunRecordDoc } from '../../loop/record.ts';
import { type LeaseRecord, leaseExpired, leasePath } from '../../registry/index.ts';
import { type ChexpoStore, sqlEpochMs } from '../../store/index.ts';
import type { AuditLog } from '../audit-log.ts';
import { apiError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import {
  type ChildExit,
  type LoopChild,
  type LoopChildSpec,
  type LoopTrigger,
  spawnLoopRun,
} from './child.ts';
import type { TrainerRunCode } from './errors.ts';
import {
  finishedOutcome,
  observeFinishedRun,
  PENDING_HARD_EXAMPLES,
  parseRecord,
  type RunOutcome,
} from './run-metrics.ts';

/** The part of the store the supervisor uses. */
export type RunsStore = Pick<ChexpoStore, 'getRun' | 'putRun' | 'listRuns' | 'count'>;

export interface TrainerSupervisorOptions {
  enabled: boolean;
  /** Everything the child needs except the run id and trigger. */
  child: Omit<LoopChildSpec, 'runId' | 'trigger'>;
  /** The store (rejects while it cannot be opened; the poll then skips a beat). */
  store: () => Promise<RunsStore>;
  /** Time schedule; 0 = off. */
  intervalMs: number;
  /** Arrivals trigger; 0 = off. */
  minHardExamples: number;
  /** Poll period of the schedule and the pending count; default 60 000. */
  pollMs?: number;
  /** A run older than this is stopped and recorded failed. */
  maxRunMs: number;
  /**
   * Wait after the child exits before reading its record: the server's LanceDB handle sees other
   * processes' commits only after its read-consistency interval (1 s). Default 1500.
   */
  settleMs?: number;
  /** SIGTERM → SIGKILL grace on timeout and shutdown; default 10 000. */
  stopGraceMs?: number;
  metrics?: Metrics;
  audit?: AuditLog;
  /** CURRENT at spawn time, for the record of a run that died before writing one. */
  baseVersion?: () => Promise<string | null>;
  /** Called after each run is accounted for (serve refreshes the per-version scores). */
  onRunFinished?: (run: FinishedRun) => void | Promise<void>;
  now?: () => number;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
}

export interface ActiveRun {
  runId: string;
  trigger: LoopTrigger;
  startedAt: number;
}

export interface FinishedRun extends ActiveRun {
  outcome: RunOutcome | null;
  exit: ChildExit;
  durationSeconds: number;
  /** The supervisor wrote the failed record itself (the child died first). */
  markedFailed: boolean;
}

export function newRunId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*/, '');
  return `run-${stamp}-${randomBytes(3).toString('hex')}`;
}

export class TrainerSupervisor {
  private readonly options: TrainerSupervisorOptions;
  private readonly now: () => number;
  private running: (ActiveRun & { child: LoopChild; timedOut: boolean; done: Promise<FinishedRun> }) | null =
    null;
  /** Start of the last run (or of the supervisor): both triggers count from here. */
  private anchor: number;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private stopping = false;

  constructor(options: TrainerSupervisorOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.anchor = this.now();
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  get active(): ActiveRun | null {
    const run = this.running;
    return run ? { runId: run.runId, trigger: run.trigger, startedAt: run.startedAt } : null;
  }

  /** When the schedule next starts a round by the clock (null: off), and its settings. */
  get schedule(): { nextAt: number | null; intervalMs: number; minHardExamples: number } {
    const { enabled, intervalMs, minHardExamples } = this.options;
    return {
      nextAt: enabled && intervalMs > 0 ? this.anchor + intervalMs : null,
      intervalMs,
      minHardExamples,
    };
  }

  /** Resumes the schedule from the last stored run (best effort), reconciles dead runs, starts polling. */
  async start(): Promise<void> {
    if (!this.options.enabled || this.timer) return;
    try {
      const store = await this.options.store();
      const [last] = await store.listRuns({ limit: 1 });
      if (last) this.anchor = last.started_at;
      await this.reconcile(store);
    } catch {
      // The store opens once the model is loaded; the schedule counts from now until then.
    }
    this.timer = setInterval(() => void this.tick(), this.options.pollMs ?? 60_000);
    this.timer.unref();
  }

  /** Starts a run now; TRAINER_DISABLED when off, TRAINER_BUSY while one runs. */
  trigger(trigger: LoopTrigger, actor: string): ActiveRun {
    if (!this.options.enabled || this.stopping) throw apiError('TRAINER_DISABLED');
    if (this.running) throw apiError('TRAINER_BUSY', `run ${this.running.runId}`);
    // A round of another process (an orphan of a crashed server, another replica, the CronJob).
    const held = this.liveLease();
    if (held)
      throw apiError(
        'TRAINER_BUSY',
        `run ${held.run_id} holds the registry lease (pid ${held.pid} on ${held.host})`,
      );
    const startedAt = this.now();
    const runId = newRunId(startedAt);
    const child = spawnLoopRun({ ...this.options.child, runId, trigger });
    this.anchor = startedAt;
    this.options.metrics?.loopRunActive.set(1);
    this.options.log?.('info', 'training run started', {
      runId,
      trigger,
      pid: child.pid,
      log: child.logPath,
    });
    void this.options.audit?.record({
      action: 'trainer.start',
      actor,
      outcome: 'ok',
      target: runId,
      details: { trigger },
    });
    const run = {
      runId,
      trigger,
      startedAt,
      child,
      timedOut: false,
      done: null as unknown as Promise<FinishedRun>,
    };
    const timeout = setTimeout(() => {
      run.timedOut = true;
      this.options.log?.('warn', 'training run exceeded its time limit; stopping it', { runId });
      void child.stop(this.options.stopGraceMs ?? 10_000);
    }, this.options.maxRunMs);
    timeout.unref();
    run.done = child.exited.then(async (exit) => {
      clearTimeout(timeout);
      return this.finish(run, exit);
    });
    this.running = run;
    return { runId, trigger, startedAt };
  }

  /** The running run's result, or null when idle (tests, shutdown). */
  whenIdle(): Promise<FinishedRun | null> {
    return this.running?.done ?? Promise.resolve(null);
  }

  /** One poll: refresh the pending gauge, then start a run if the clock or the arrivals say so. */
  async tick(): Promise<void> {
    if (!this.options.enabled || this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      const store = await this.options.store();
      this.options.metrics?.loopHardExamplesPending.set(
        await store.count('hard_examples', PENDING_HARD_EXAMPLES),
      );
      if (this.running) return;
      await this.reconcile(store);
      const { intervalMs, minHardExamples } = this.options;
      if (intervalMs > 0 && this.now() - this.anchor >= intervalMs) {
        this.trigger('schedule', 'scheduler');
        return;
      }
      if (minHardExamples > 0) {
        const arrived = await store.count(
          'hard_examples',
          `${PENDING_HARD_EXAMPLES} AND created_at >= ${sqlEpochMs(this.anchor)}`,
        );
        if (arrived >= minHardExamples && !this.running) this.trigger('hard_examples', 'scheduler');
      }
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'TRAINER_BUSY')
        this.options.log?.('warn', 'trainer poll skipped', { error: String(error) });
    } finally {
      this.ticking = false;
    }
  }

  /** Stops polling; SIGTERMs a running child, waits for it and records it. Idempotent. */
  async close(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const run = this.running;
    if (!run) return;
    await run.child.stop(this.options.stopGraceMs ?? 10_000);
    await run.done;
  }

  private async finish(run: ActiveRun & { timedOut: boolean }, exit: ChildExit): Promise<FinishedRun> {
    const durationSeconds = (this.now() - run.startedAt) / 1000;
    let outcome: RunOutcome | null = null;
    let markedFailed = false;
    let doc: RunRecordDoc | null = null;
    try {
      const store = await this.options.store();
      const attempts = exit.code === 0 ? 3 : 1;
      let stored = null;
      for (let attempt = 0; attempt < attempts && !outcome; attempt++) {
        await sleep(this.options.settleMs ?? 1500);
        stored = await store.getRun(run.runId);
        outcome = stored ? finishedOutcome(stored.status) : null;
      }
      doc = stored ? parseRecord(stored) : null;
      if (!outcome) {
        doc = await this.markFailed(store, run, exit, doc);
        outcome = 'failed';
        markedFailed = true;
      } else if (exit.code !== 0 && outcome !== 'failed') {
        this.options.log?.('warn', 'training run exited non-zero after recording its outcome', {
          runId: run.runId,
          exit,
        });
      }
    } catch (error) {
      // Without the store the outcome is unknown; a non-zero exit is still a failure.
      if (exit.code !== 0) outcome = 'failed';
      this.options.log?.('error', 'could not read or update the run record', {
        runId: run.runId,
        error: String(error),
      });
    }
    const metrics = this.options.metrics;
    if (metrics && outcome) observeFinishedRun(metrics, outcome, durationSeconds, doc);
    metrics?.loopRunActive.set(0);
    const finished: FinishedRun = {
      runId: run.runId,
      trigger: run.trigger,
      startedAt: run.startedAt,
      outcome,
      exit,
      durationSeconds,
      markedFailed,
    };
    this.options.log?.(outcome === 'failed' ? 'warn' : 'info', 'training run finished', { ...finished });
    await this.options.audit?.record({
      action: 'trainer.finish',
      actor: 'trainer',
      outcome: outcome === 'failed' || outcome === null ? 'failed' : 'ok',
      target: run.runId,
      details: { run_outcome: outcome, exit_code: exit.code, signal: exit.signal },
    });
    this.running = null;
    try {
      await this.options.onRunFinished?.(finished);
    } catch (error) {
      this.options.log?.('warn', 'after-run hook failed', { error: String(error) });
    }
    return finished;
  }

  /** The registry lease when a live holder has it (read synchronously: trigger() answers at once). */
  private liveLease(): LeaseRecord | null {
    const { registryRoot, modelName } = this.options.child;
    try {
      const lease = JSON.parse(readFileSync(leasePath(registryRoot, modelName), 'utf8')) as LeaseRecord;
      return leaseExpired(lease, this.now()) ? null : lease;
    } catch {
      return null;
    }
  }

  /**
   * Runs stored as `running` whose process is gone (no live lease names them, and this supervisor
   * does not run them): a crashed server's orphan, a killed CronJob pod. Recorded `failed` with
   * TRAINER_ORPHANED, so no run looks alive forever.
   */
  private async reconcile(store: RunsStore): Promise<void> {
    const lease = this.liveLease();
    for (const stale of await store.listRuns({ status: 'running' })) {
      if (stale.id === this.running?.runId || stale.id === lease?.run_id) continue;
      const doc =
        parseRecord(stale) ??
        (await this.emptyRecord({ runId: stale.id, trigger: 'manual', startedAt: stale.started_at }));
      const finishedAt = this.now();
      const failed: RunRecordDoc = {
        ...doc,
        status: 'failed',
        finished_at: finishedAt,
        error: {
          code: 'TRAINER_ORPHANED' satisfies TrainerRunCode,
          message: 'the run was still marked running but no process holds its lease (its server or pod died)',
        },
      };
      await store.putRun({
        id: stale.id,
        started_at: stale.started_at,
        finished_at: finishedAt,
        status: 'failed',
        record: JSON.stringify(failed),
      });
      this.options.log?.('warn', 'a run left running by a dead process is recorded failed', {
        runId: stale.id,
      });
    }
  }

  /** The child left `running` (or nothing): record the failure so the run does not look alive. */
  private async markFailed(
    store: RunsStore,
    run: ActiveRun & { timedOut: boolean },
    exit: ChildExit,
    written: RunRecordDoc | null,
  ): Promise<RunRecordDoc> {
    const finishedAt = this.now();
    const code: TrainerRunCode = run.timedOut
      ? 'TRAINER_TIMEOUT'
      : this.stopping
        ? 'TRAINER_STOPPED'
        : 'TRAINER_CHILD_CRASHED';
    const how = exit.spawnError ?? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`);
    const doc: RunRecordDoc = {
      ...(written ?? (await this.emptyRecord(run))),
      status: 'failed',
      finished_at: finishedAt,
      error: { code, message: `the loop process ended before finishing its record (${how})` },
    };
    await store.putRun({
      id: run.runId,
      started_at: doc.started_at,
      finished_at: finishedAt,
      status: 'failed',
      record: JSON.stringify(doc),
    });
    return doc;
  }

  private async emptyRecord(run: ActiveRun): Promise<RunRecordDoc> {
    const base = await this.options.baseVersion?.().catch(() => null);
    return emptyRunRecord({
      id: run.runId,
      trigger: run.trigger,
      status: 'failed',
      started_at: run.startedAt,
      base_version: base ?? 'unknown',
    });
  }
}
