/**
 * Hard-example logging off the request path: rows go through the store's bounded, batched,
 * retrying WriteQueue into a LazyStore (LanceDB opened on first write, reopened after a failure), so
 * neither a slow nor a missing store ever fails or delays an answer. Failures and drops are counted
 * in the catalogue metrics and logged without row content.
 *
 * LanceDB tables have a fixed vector width, so the store opens only once the embedding width is
 * known (the first row's, or the served model's for feedback).
 */
import { createHash } from 'node:crypto';
import {
  type AnswerRecord,
  type ChexpoStore,
  LanceStore,
  LazyStore,
  metricsObserver,
  type NewAnswerRecord,
  type NewHardExample,
  validateNewAnswerRecord,
  validateNewHardExample,
  WriteQueue,
} from '../store/index.ts';
import type { Metrics } from './metrics.ts';

export interface HardExampleLoggerOptions {
  /** LanceDB directory or object-storage URI (CHEXPO_STORE_URI). */
  uri: string;
  /** The served model's embedding width, when known (opens the store for feedback before any write). */
  embeddingDim?: () => number | undefined;
  metrics?: Metrics;
  log?: (event: string, details: Record<string, unknown>) => void;
  /** Write-queue tuning; defaults from WriteQueue (tests shorten flushIntervalMs). */
  queue?: {
    capacity?: number;
    batchSize?: number;
    flushIntervalMs?: number;
    retryInitialMs?: number;
    compactEveryBatches?: number;
  };
  /**
   * How long every answer's minimal record is kept for feedback (CHEXPO_ANSWER_RETENTION_HOURS);
   * 0 or absent: none is kept, and only flagged answers take feedback.
   */
  answerRetentionMs?: number;
  /** Opens the store (tests inject failing stores); default LanceStore.open. */
  open?: (uri: string, embeddingDim: number) => Promise<ChexpoStore>;
}

/** Request ids are stored hashed (a client's id may carry meaning); feedback finds rows by the same hash. */
export function hashRequestId(requestId: string): string {
  return createHash('sha256').update(`chexpo-request:${requestId}`).digest('hex');
}

/** API keys are stored hashed in answer records (feedback ownership can compare the same hash). */
export function hashKeyId(keyId: string): string {
  return createHash('sha256').update(`chexpo-key:${keyId}`).digest('hex');
}

export class HardExampleLogger {
  private dim: number | undefined;
  private readonly store: LazyStore<ChexpoStore>;
  private readonly queue: WriteQueue<NewHardExample>;
  private readonly answers: WriteQueue<NewAnswerRecord> | undefined;
  private readonly pruneTimer: NodeJS.Timeout | undefined;
  readonly answerRetentionMs: number;

  constructor(options: HardExampleLoggerOptions) {
    const open = options.open ?? ((uri, embeddingDim) => LanceStore.open({ uri, embeddingDim }));
    this.store = new LazyStore(async () => {
      const dim = this.dim ?? options.embeddingDim?.();
      if (dim === undefined) throw new Error('the embedding width is not known yet');
      return open(options.uri, dim);
    });
    const table = { table: 'hard_examples' } as const;
    const metrics = options.metrics;
    this.queue = new WriteQueue<NewHardExample>({
      ...options.queue,
      write: async (rows) => (await this.store.get()).addHardExamples(rows),
      // Every batch is a LanceDB fragment; unmerged, they made feedback (an update) slower minute by
      // minute in the soak (330 → 986 ms in two minutes). Compaction runs between writes.
      compact: async () => (await this.store.get()).compact(),
      compactEveryBatches: options.queue?.compactEveryBatches ?? 50,
      // Against the store's width, not the row's own: after a swap to a model with another embedding
      // width, its rows are refused one by one (counted) instead of poisoning a batch of valid rows.
      validate: (row) => validateNewHardExample(row, this.dim ?? row.embedding.length),
      observer: metricsObserver({
        failedWrites: metrics && { inc: (n) => metrics.storeWriteFailures.inc(table, n) },
        droppedRows: metrics && { inc: (_labels, n) => metrics.storeWritesDropped.inc(table, n) },
        log: (event, details) => options.log?.(event, details),
      }),
    });
    this.answerRetentionMs = Math.max(0, options.answerRetentionMs ?? 0);
    if (this.answerRetentionMs > 0) {
      const answersTable = { table: 'answers' } as const;
      this.answers = new WriteQueue<NewAnswerRecord>({
        ...options.queue,
        write: async (rows) => (await this.store.get()).addAnswers(rows),
        validate: (row) => validateNewAnswerRecord(row, this.dim ?? row.embedding.length),
        observer: metricsObserver({
          failedWrites: metrics && { inc: (n) => metrics.storeWriteFailures.inc(answersTable, n) },
          droppedRows: metrics && { inc: (_labels, n) => metrics.storeWritesDropped.inc(answersTable, n) },
          log: (event, details) => options.log?.(event, details),
        }),
      });
      // Expired records go at a quarter of the window (at most every 10 minutes); lookups never
      // return one older than the window anyway.
      const every = Math.min(this.answerRetentionMs / 4, 10 * 60 * 1000);
      this.pruneTimer = setInterval(() => {
        this.pruneAnswers().catch((error) =>
          options.log?.('answer records prune failed', { error: String(error) }),
        );
      }, every);
      this.pruneTimer.unref();
    }
  }

  /** Queues an answer's minimal record; false when records are off or it was dropped. Never throws. */
  recordAnswer(row: NewAnswerRecord): boolean {
    if (!this.answers) return false;
    this.dim ??= row.embedding.length;
    return this.answers.enqueue(row);
  }

  /**
   * The record of this request within the retention window, with its image when stored; a miss
   * flushes the answer queue once (the record may still be queued). Null when records are off.
   */
  async findAnswer(requestId: string): Promise<(AnswerRecord & { image: Uint8Array | null }) | null> {
    if (!this.answers) return null;
    const hash = hashRequestId(requestId);
    const since = Date.now() - this.answerRetentionMs;
    const store = await this.store.get();
    const queued = this.answers.stats().pending;
    const found = await store.findAnswer(hash, since);
    if (found || queued === 0) return found;
    await this.answers.flush({ timeoutMs: 5000 });
    return store.findAnswer(hash, since);
  }

  /** Writes a labelled hard example now (feedback on an answer that was not flagged). */
  async addLabelledHardExample(row: NewHardExample): Promise<void> {
    const store = await this.store.get();
    validateNewHardExample(row, store.embeddingDim);
    await store.addHardExamples([row]);
  }

  /** Deletes answer records older than the retention window; returns how many. */
  async pruneAnswers(now = Date.now()): Promise<number> {
    if (!this.answers) return 0;
    return (await this.store.get()).deleteAnswersBefore(now - this.answerRetentionMs);
  }

  /** Queues a row; false when it was dropped (counted). Never throws, never waits. */
  enqueue(row: NewHardExample): boolean {
    this.dim ??= row.embedding.length;
    return this.queue.enqueue(row);
  }

  /**
   * Labels the hard example logged for this request. A row may still be queued, so a miss flushes
   * the queue once and tries again. Returns the rows updated (0: not flagged, or unknown).
   */
  async setLabel(requestId: string, label: string): Promise<number> {
    const hash = hashRequestId(requestId);
    const store = await this.store.get();
    // Read before the lookup: a batch that commits between the lookup and this check would
    // otherwise count as written-and-missed.
    const queued = this.queue.stats().pending;
    const updated = await store.setLabel(hash, label);
    if (updated > 0 || queued === 0) return updated;
    await this.queue.flush({ timeoutMs: 5000 });
    return store.setLabel(hash, label);
  }

  /** The open store, e.g. for tests reading rows back. */
  openStore(): Promise<ChexpoStore> {
    return this.store.get();
  }

  async flush(timeoutMs = 5000): Promise<{ pending: number }> {
    const [hard, answers] = await Promise.all([
      this.queue.flush({ timeoutMs }),
      this.answers?.flush({ timeoutMs }) ?? { pending: 0 },
    ]);
    return { pending: hard.pending + answers.pending };
  }

  /** Flushes (bounded), then closes the store. Idempotent. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all([this.queue.close({ timeoutMs }), this.answers?.close({ timeoutMs })]);
    await this.store.close();
  }
}
