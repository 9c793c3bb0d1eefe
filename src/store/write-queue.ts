/**
 * A bounded, batching write queue that keeps store writes off the request path.
 *
 * `enqueue` returns at once and never throws. Rows are written in batches (each LanceDB write
 * costs ~15 ms and creates one fragment, so one write per row would be slow and fragment the
 * table): a full batch is written on the next tick, a partial one at most `flushIntervalMs` after
 * it started. A failed write keeps its rows at the head of the queue and is retried with
 * exponential backoff, so nothing is lost while there is room; when the queue holds `capacity`
 * rows, new rows are dropped and counted. Writes and compactions run one at a time.
 */
import { StoreError } from './errors.ts';

/** Why rows were dropped: queue full, rejected by `validate`, rejected by the store as invalid, or enqueued after close. */
export type DropReason = 'full' | 'invalid' | 'rejected' | 'closed';
export const DROP_REASONS: readonly DropReason[] = ['full', 'invalid', 'rejected', 'closed'];

/** Callbacks for metrics and logs; every one is optional and must not throw (throws are ignored). */
export interface WriteQueueObserver {
  /** A batch of `rows` was written in `durationMs`. */
  written?(rows: number, durationMs: number): void;
  /** A write of `rows` failed; they stay queued and are retried in `retryInMs`. */
  writeFailed?(error: unknown, rows: number, retryInMs: number): void;
  /** Rows were dropped; `error` is set for `invalid` and `rejected`. */
  dropped?(rows: number, reason: DropReason, error?: unknown): void;
  /** The number of queued rows changed. */
  pendingChanged?(pending: number): void;
  compacted?(durationMs: number): void;
  compactionFailed?(error: unknown): void;
}

export interface WriteQueueOptions<T> {
  /** Writes one batch. Throwing keeps the rows queued for a retry (unless `isPermanent` says otherwise). */
  write: (rows: T[]) => Promise<void>;
  /** Most rows held at once (including a batch being written); beyond it rows are dropped. Default 10 000. */
  capacity?: number;
  /** Most rows per write. Default 256. */
  batchSize?: number;
  /** A partial batch is written at most this long after the queue became non-empty. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Delay before the first retry; doubles with each consecutive failure. Default 200 ms. */
  retryInitialMs?: number;
  /** Cap of the retry delay. Default 30 000 ms. */
  retryMaxMs?: number;
  /** Checks a row at `enqueue` (e.g. its vector length); a throw drops it as `invalid`. */
  validate?: (row: T) => void;
  /**
   * Whether a write error will recur however often it is retried (a malformed row), in which case
   * the batch is dropped as `rejected` instead of blocking the queue forever. Default: StoreError
   * STORE_INVALID_ROW or STORE_INVALID_VECTOR.
   */
  isPermanent?: (error: unknown) => boolean;
  /** Compaction of the store (`store.compact()`); run between writes, never concurrently with one. */
  compact?: () => Promise<unknown>;
  /** Compact after this many written batches. Default 100 when `compact` is set; 0 = never by count. */
  compactEveryBatches?: number;
  /** Also compact on this period when something was written since the last compaction. Default off. */
  compactIntervalMs?: number;
  observer?: WriteQueueObserver;
}

export interface WriteQueueStats {
  /** Rows written successfully. */
  written: number;
  batchesWritten: number;
  /** Failed write attempts (each retry counts). */
  failedAttempts: number;
  /** Rows dropped for any reason; `droppedBy` splits it. */
  dropped: number;
  droppedBy: Record<DropReason, number>;
  /** Rows queued, including a batch being written. */
  pending: number;
  compactions: number;
  compactionFailures: number;
}

export interface FlushResult {
  /** Rows still queued (non-zero only when the timeout passed while writes were failing). */
  pending: number;
}

const defaultIsPermanent = (error: unknown): boolean =>
  error instanceof StoreError &&
  (error.code === 'STORE_INVALID_ROW' || error.code === 'STORE_INVALID_VECTOR');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `work`, but not past `deadline` (epoch ms): a hung store write cannot hold a flush or a shutdown. */
async function until(work: Promise<unknown>, deadline: number): Promise<void> {
  if (!Number.isFinite(deadline)) {
    await work;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  await Promise.race([work, expiry]);
  clearTimeout(timer);
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${name} must be > 0, got ${value}`);
  return value;
}

export class WriteQueue<T> {
  private readonly write: (rows: T[]) => Promise<void>;
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly validate?: (row: T) => void;
  private readonly isPermanent: (error: unknown) => boolean;
  private readonly compactFn?: () => Promise<unknown>;
  private readonly compactEveryBatches: number;
  private readonly observer: WriteQueueObserver;

  /** Queued rows, oldest first; a batch leaves only once written (or rejected). */
  private readonly rows: T[] = [];
  /** Serialises writes and compactions. */
  private lane: Promise<void> = Promise.resolve();
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = 0;
  private readonly compactTimer: NodeJS.Timeout | null = null;
  /** No write is attempted before this instant (backoff after a failure). */
  private retryAt = 0;
  private consecutiveFailures = 0;
  private batchesSinceCompaction = 0;
  private closed = false;
  private readonly counters = {
    written: 0,
    batchesWritten: 0,
    failedAttempts: 0,
    compactions: 0,
    compactionFailures: 0,
    droppedBy: { full: 0, invalid: 0, rejected: 0, closed: 0 } as Record<DropReason, number>,
  };

  constructor(options: WriteQueueOptions<T>) {
    this.write = options.write;
    this.capacity = positive('capacity', options.capacity ?? 10_000);
    this.batchSize = positive('batchSize', options.batchSize ?? 256);
    this.flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs ?? 1000);
    this.retryInitialMs = positive('retryInitialMs', options.retryInitialMs ?? 200);
    this.retryMaxMs = positive('retryMaxMs', options.retryMaxMs ?? 30_000);
    this.validate = options.validate;
    this.isPermanent = options.isPermanent ?? defaultIsPermanent;
    this.compactFn = options.compact;
    this.compactEveryBatches = options.compact ? (options.compactEveryBatches ?? 100) : 0;
    this.observer = options.observer ?? {};
    if (options.compact && options.compactIntervalMs !== undefined) {
      const period = positive('compactIntervalMs', options.compactIntervalMs);
      this.compactTimer = setInterval(() => {
        if (this.batchesSinceCompaction > 0) void this.exclusive(() => this.compactNow());
      }, period);
      this.compactTimer.unref();
    }
  }

  /** Queues a row; returns false (and counts it) when it was dropped. Never throws, never waits. */
  enqueue(row: T): boolean {
    if (this.closed) return this.drop(1, 'closed');
    if (this.validate) {
      try {
        this.validate(row);
      } catch (error) {
        return this.drop(1, 'invalid', error);
      }
    }
    if (this.rows.length >= this.capacity) return this.drop(1, 'full');
    this.rows.push(row);
    this.notify('pendingChanged', this.rows.length);
    this.schedule();
    return true;
  }

  stats(): WriteQueueStats {
    const droppedBy = { ...this.counters.droppedBy };
    return {
      written: this.counters.written,
      batchesWritten: this.counters.batchesWritten,
      failedAttempts: this.counters.failedAttempts,
      dropped: DROP_REASONS.reduce((sum, reason) => sum + droppedBy[reason], 0),
      droppedBy,
      pending: this.rows.length,
      compactions: this.counters.compactions,
      compactionFailures: this.counters.compactionFailures,
    };
  }

  /**
   * Writes everything queued, waiting out retry delays, until the queue is empty or `timeoutMs`
   * has passed (default: no limit, so give one when the store may stay down).
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
    while (this.rows.length > 0) {
      if (Date.now() >= deadline) break;
      if (this.draining) {
        await until(this.draining, deadline);
        continue;
      }
      const now = Date.now();
      if (now < this.retryAt) {
        await sleep(Math.min(this.retryAt, deadline) - now);
        continue;
      }
      this.clearTimer();
      await until(this.startDrain(), deadline);
    }
    return { pending: this.rows.length };
  }

  /** Flushes (default timeout 5 s), then stops timers; later enqueues are dropped as `closed`. Idempotent. */
  async close(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    if (!this.closed) {
      this.closed = true;
      if (this.compactTimer) clearInterval(this.compactTimer);
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    const result = await this.flush({ timeoutMs });
    this.clearTimer();
    await until(this.lane, deadline);
    return result;
  }

  private drop(rows: number, reason: DropReason, error?: unknown): false {
    this.counters.droppedBy[reason] += rows;
    this.notify('dropped', rows, reason, error);
    return false;
  }

  private notify<K extends keyof WriteQueueObserver>(
    event: K,
    ...args: Parameters<NonNullable<WriteQueueObserver[K]>>
  ): void {
    const callback = this.observer[event] as ((...a: unknown[]) => void) | undefined;
    try {
      callback?.apply(this.observer, args);
    } catch {
      // An observer (metrics, logging) must never break the queue.
    }
  }

  /** Arms the timer for the next write: now if a batch is full, else after the interval or the backoff. */
  private schedule(): void {
    if (this.draining || this.rows.length === 0) return;
    const now = Date.now();
    const dueAt =
      now < this.retryAt
        ? this.retryAt
        : this.rows.length >= this.batchSize
          ? now
          : this.timer
            ? this.timerDueAt
            : now + this.flushIntervalMs;
    if (this.timer && this.timerDueAt <= dueAt) return;
    this.clearTimer();
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.startDrain();
    }, dueAt - now);
    // The server's shutdown flushes explicitly; a pending timer alone must not keep the process up.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private startDrain(): Promise<void> {
    if (!this.draining) {
      this.draining = this.exclusive(() => this.drain()).finally(() => {
        this.draining = null;
        this.schedule();
      });
    }
    return this.draining;
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.lane.then(task);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Writes batches until the queue is empty or a write fails (then backs off). */
  private async drain(): Promise<void> {
    while (this.rows.length > 0 && Date.now() >= this.retryAt) {
      const batch = this.rows.slice(0, this.batchSize);
      const started = performance.now();
      try {
        await this.write(batch);
      } catch (error) {
        if (this.isPermanent(error)) {
          this.rows.splice(0, batch.length);
          this.drop(batch.length, 'rejected', error);
          this.notify('pendingChanged', this.rows.length);
          continue;
        }
        this.counters.failedAttempts += 1;
        this.consecutiveFailures += 1;
        const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** (this.consecutiveFailures - 1));
        this.retryAt = Date.now() + delay;
        this.notify('writeFailed', error, batch.length, delay);
        return;
      }
      this.rows.splice(0, batch.length);
      this.consecutiveFailures = 0;
      this.retryAt = 0;
      this.counters.written += batch.length;
      this.counters.batchesWritten += 1;
      this.batchesSinceCompaction += 1;
      this.notify('written', batch.length, performance.now() - started);
      this.notify('pendingChanged', this.rows.length);
      if (this.compactEveryBatches > 0 && this.batchesSinceCompaction >= this.compactEveryBatches) {
        await this.compactNow();
      }
    }
  }

  private async compactNow(): Promise<void> {
    if (!this.compactFn) return;
    this.batchesSinceCompaction = 0;
    const started = performance.now();
    try {
      await this.compactFn();
      this.counters.compactions += 1;
      this.notify('compacted', performance.now() - started);
    } catch (error) {
      this.counters.compactionFailures += 1;
      this.notify('compactionFailed', error);
    }
  }
}
