/**
 * Adapts the write queue's observer to metric handles owned by the metrics catalogue (prom-client
 * `Counter`, `Gauge` and `Histogram` fit these shapes). The store names no metric itself.
 */
import type { DropReason, WriteQueueObserver } from './write-queue.ts';

export interface CounterLike {
  inc(value?: number): void;
}

/** A counter with a `reason` label, e.g. prom-client `new Counter({ labelNames: ['reason'] })`. */
export interface ReasonCounterLike {
  inc(labels: { reason: DropReason }, value?: number): void;
}

export interface GaugeLike {
  set(value: number): void;
}

export interface HistogramLike {
  observe(value: number): void;
}

export interface WriteQueueMetricHandles {
  /** Rows written. */
  writtenRows?: CounterLike;
  /** Failed write attempts. */
  failedWrites?: CounterLike;
  /** Dropped rows by reason (full, invalid, rejected, closed). */
  droppedRows?: ReasonCounterLike;
  /** Rows queued now. */
  pendingRows?: GaugeLike;
  /** Duration of each successful batch write, in seconds. */
  writeSeconds?: HistogramLike;
  /** Failed compactions. */
  compactionFailures?: CounterLike;
  /** Anything for logs: called with a short event name and details (no row content). */
  log?: (
    event: 'write_failed' | 'rows_dropped' | 'compaction_failed',
    details: Record<string, unknown>,
  ) => void;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export function metricsObserver(handles: WriteQueueMetricHandles): WriteQueueObserver {
  return {
    written(rows, durationMs) {
      handles.writtenRows?.inc(rows);
      handles.writeSeconds?.observe(durationMs / 1000);
    },
    writeFailed(error, rows, retryInMs) {
      handles.failedWrites?.inc();
      handles.log?.('write_failed', { rows, retryInMs, error: describe(error) });
    },
    dropped(rows, reason, error) {
      handles.droppedRows?.inc({ reason }, rows);
      handles.log?.('rows_dropped', {
        rows,
        reason,
        ...(error === undefined ? {} : { error: describe(error) }),
      });
    },
    pendingChanged(pending) {
      handles.pendingRows?.set(pending);
    },
    compactionFailed(error) {
      handles.compactionFailures?.inc();
      handles.log?.('compaction_failed', { error: describe(error) });
    },
  };
}
