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
  type AppendLabelResult,
  type ChexpoStore,
  type LabelEntry,
  LanceStore,
  LazyStore,
  metricsObserver,
  type NewAnswerRecord,
  type NewHardExample,
  StoreError,
  validateNewAnswerRecord,
  validateNewHardExample,
  WriteQueue,
} from '../store/index.ts';
import { HardExampleJournal, type JournalOptions } from './hard-example-journal.ts';
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
  /** The crash journal (CHEXPO_JOURNAL_DIR); absent: rows live only in the write queue until written. */
  journal?: JournalOptions;
}

const isPermanentRejection = (error: unknown): boolean =>
  error instanceof StoreError &&
  (error.code === 'STORE_INVALID_ROW' || error.code === 'STORE_INVALID_VECTOR');

/**
 * Request ids are stored hashed (a client's id may carry meaning), in the namespace of the API key
 * that asked: feedback finds rows by the same hash, so one key can neither find nor label another
 * key's answers, even when their ids collide or are guessed (`ris-study-0001`).
 */
export function hashRequestId(keyId: string, requestId: string): string {
  return createHash('sha256').update(`chexpo-request:${keyId}:${requestId}`).digest('hex');
}

/** API keys are stored hashed in answer records (feedback ownership can compare the same hash). */
export function hashKeyId(keyId: string): string {
  return createHash('sha256').update(`chexpo-key:${keyId}`).digest('hex');
}

export class HardExampleLogger {
  private dim: number | undefined;
  private readonly store: LazyStore<ChexpoStore>;
  private readonly queue: WriteQueue<NewHardExample>;
  private readonly journal: HardExampleJournal | null;
  private readonly log: HardExampleLoggerOptions['log'];
  /** The last label append per request-id hash, so appends to one row run one after another. */
  private readonly labelling = new Map<string, Promise<void>>();
  private readonly answers: WriteQueue<NewAnswerRecord> | undefined;
  private readonly pruneTimer: NodeJS.Timeout | undefined;
  readonly answerRetentionMs: number;

  constructor(options: HardExampleLoggerOptions) {
    this.log = options.log;
    const open = options.open ?? ((uri, embeddingDim) => LanceStore.open({ uri, embeddingDim }));
    this.store = new LazyStore(async () => {
      const dim = this.dim ?? options.embeddingDim?.();
      if (dim === undefined) throw new Error('the embedding width is not known yet');
      return open(options.uri, dim);
    });
    const table = { table: 'hard_examples' } as const;
    const metrics = options.metrics;
    this.journal = options.journal ? new HardExampleJournal(options.journal) : null;
    this.queue = new WriteQueue<NewHardExample>({
      ...options.queue,
      write: async (rows) => {
        try {
          await (await this.store.get()).addHardExamples(rows);
        } catch (error) {
          // Refused for good: the journal must not replay it at every start.
          if (isPermanentRejection(error)) await this.resolveJournal(rows);
          throw error;
        }
        await this.resolveJournal(rows);
      },
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
   * The record of this request (hash from hashRequestId, in the asking key's namespace) within the
   * retention window, with its image when stored; a miss flushes the answer queue once (the record
   * may still be queued). Null when records are off.
   */
  async findAnswer(requestIdHash: string): Promise<(AnswerRecord & { image: Uint8Array | null }) | null> {
    if (!this.answers) return null;
    const since = Date.now() - this.answerRetentionMs;
    const store = await this.store.get();
    const queued = this.answers.stats().pending;
    const found = await store.findAnswer(requestIdHash, since);
    if (found || queued === 0) return found;
    await this.answers.flush({ timeoutMs: 5000 });
    return store.findAnswer(requestIdHash, since);
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
   * Journals the row durably (when a journal is configured), then queues it: once this resolves
   * true, a crash cannot lose the row. False when it was dropped (counted). Never throws.
   */
  async record(row: NewHardExample): Promise<boolean> {
    if (!this.journal) return this.enqueue(row);
    this.dim ??= row.embedding.length;
    try {
      validateNewHardExample(row, this.dim);
    } catch {
      return this.queue.enqueue(row); // dropped as invalid, counted by the queue
    }
    await this.journal.append(row);
    const queued = this.queue.enqueue(row);
    if (!queued) await this.resolveJournal([row]);
    return queued;
  }

  /**
   * Replays what an earlier process journaled and the store does not hold yet (so no row is written
   * twice). Call once at start, before answering. Rows the queue has no room for stay journaled
   * for the next start.
   */
  async replayJournal(): Promise<{ journaled: number; replayed: number }> {
    if (!this.journal) return { journaled: 0, replayed: 0 };
    const rows = await this.journal.recover();
    if (rows.length === 0) return { journaled: 0, replayed: 0 };
    this.dim ??= rows[0].embedding.length;
    const store = await this.store.get();
    const present = await store.hardExampleIds(rows.map((r) => r.id));
    await this.journal.resolve(present);
    let replayed = 0;
    for (const row of rows) {
      if (present.has(row.id)) continue;
      try {
        validateNewHardExample(row, this.dim);
      } catch {
        await this.journal.resolve([row.id]);
        continue;
      }
      if (this.queue.enqueue(row)) replayed += 1;
    }
    return { journaled: rows.length, replayed };
  }

  /** The journal's rows landed (or refused for good): their segments may go. Never throws. */
  private async resolveJournal(rows: readonly NewHardExample[]): Promise<void> {
    await this.journal?.resolve(rows.map((r) => r.id)).catch((error: unknown) => {
      this.log?.('journal_compaction_failed', { error: String(error) });
    });
  }

  /**
   * Runs `task` after every earlier labelling of this request-id hash in this process has settled,
   * so appends to one row (and the adoption of one answer record) run one after another; the
   * store's compare-and-swap covers other processes.
   */
  private serialised<T>(requestIdHash: string, task: () => Promise<T>): Promise<T> {
    const previous = this.labelling.get(requestIdHash) ?? Promise.resolve();
    const mine = previous.then(task);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.labelling.set(requestIdHash, settled);
    void settled.then(() => {
      if (this.labelling.get(requestIdHash) === settled) this.labelling.delete(requestIdHash);
    });
    return mine;
  }

  /** appendLabel's body, inside the per-hash serialisation. */
  private async appendLabelNow(requestIdHash: string, entry: LabelEntry): Promise<AppendLabelResult> {
    const store = await this.store.get();
    // Read before the lookup: a batch that commits between the lookup and this check would
    // otherwise count as written-and-missed.
    const queued = this.queue.stats().pending;
    const result = await store.appendLabel(requestIdHash, entry);
    if (result.updated > 0 || result.full > 0 || queued === 0) return result;
    await this.queue.flush({ timeoutMs: 5000 });
    return store.appendLabel(requestIdHash, entry);
  }

  /**
   * Appends a label to the hard example logged for this request (hash from hashRequestId). A row
   * may still be queued, so a miss flushes the queue once and tries again. Appends to one row are
   * serialised in this process; the store's compare-and-swap covers other processes.
   */
  appendLabel(requestIdHash: string, entry: LabelEntry): Promise<AppendLabelResult> {
    return this.serialised(requestIdHash, () => this.appendLabelNow(requestIdHash, entry));
  }

  /**
   * Feedback on any answer: appends `entry` to the hard example of this request (hash from
   * hashRequestId in the owner's namespace); when there is none (the answer was not flagged), the
   * answer record of the same request and owner (`ownerKeyHash`, from hashKeyId) within the
   * retention window becomes a labelled hard example, `adopt` making its row. `adopted` says which;
   * `updated` 0 (and `full` 0): neither exists for this key. `ownerKeyHash` null (a reviewer in the
   * console, who reached the record through the queue rather than by its request id): any owner.
   */
  labelAnswer(
    requestIdHash: string,
    ownerKeyHash: string | null,
    entry: LabelEntry,
    adopt: (record: AnswerRecord & { image: Uint8Array | null }) => NewHardExample,
  ): Promise<AppendLabelResult & { adopted: boolean }> {
    return this.serialised(requestIdHash, async () => {
      const result = await this.appendLabelNow(requestIdHash, entry);
      if (result.updated > 0 || result.full > 0) return { ...result, adopted: false };
      const record = await this.findAnswer(requestIdHash);
      if (!record || (ownerKeyHash !== null && record.key_hash !== ownerKeyHash)) {
        return { updated: 0, full: 0, adopted: false };
      }
      await this.addLabelledHardExample(adopt(record));
      return { updated: 1, full: 0, adopted: true };
    });
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

  /** Flushes (bounded), then closes the journal and the store. Idempotent. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all([this.queue.close({ timeoutMs }), this.answers?.close({ timeoutMs })]);
    await this.journal?.close();
    await this.store.close();
  }
}
