/**
 * The store contract: what the server (hard-example logging, feedback) and the loop (mining,
 * expansion, pairs, run records) need from persistent storage. `LanceStore` implements it on
 * LanceDB; tests and fault injection can implement it (or parts of it) with anything.
 *
 * Conventions: timestamps are epoch milliseconds (UTC); vectors are `Float32Array` of length
 * `embeddingDim`; nullable columns read back as `null`, never `undefined`; JSON-valued columns
 * (`label`, `provenance`, `record`) are strings the caller encodes and decodes.
 */
import type { FindingKey, Split, TaskType } from '../data/types.ts';
import type { LabelEntry } from './labels.ts';

export const TABLE_NAMES = ['hard_examples', 'pool', 'pairs', 'runs', 'answers'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** Tables with an `embedding` column, searchable by `nearest`. */
export const VECTOR_TABLE_NAMES = ['hard_examples', 'pool'] as const;
export type VectorTableName = (typeof VECTOR_TABLE_NAMES)[number];

export const HARD_EXAMPLE_STATUSES = ['new', 'labelled', 'mined', 'used'] as const;
/** Lifecycle: logged (`new`) → label from feedback or the pool (`labelled`) → selected by mining (`mined`) → in a DPO run (`used`). */
export type HardExampleStatus = (typeof HARD_EXAMPLE_STATUSES)[number];

export const HARD_EXAMPLE_SOURCES = ['live', 'benchmark'] as const;
export type HardExampleSource = (typeof HARD_EXAMPLE_SOURCES)[number];

/** The instruction task when known (benchmark mining), else the API task of a live request (`vqa` | `report`). */
export type HardExampleTask = TaskType | 'vqa';

export const PAIR_KINDS = [
  'negation',
  'laterality',
  'severity',
  'location',
  'confusable',
  'cooccurrence',
  'on_policy',
  'image_counterfactual',
] as const;
export type PairKind = (typeof PAIR_KINDS)[number];

export interface AppendLabelResult {
  updated: number;
  full: number;
}

export const RUN_STATUSES = ['running', 'succeeded', 'promoted', 'rejected', 'failed'] as const;
/** `succeeded`: trained and evaluated, gate not yet decided; `promoted`/`rejected`: the gate's decision. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A hard example as read back. The image bytes are not part of it: load them with `getImages`. */
export interface HardExample {
  id: string;
  created_at: number;
  model_version: string;
  task: HardExampleTask;
  question: string;
  answer: string;
  /** Probability of every generated token, in order (list<float32>). */
  token_probs: number[];
  min_prob: number;
  mean_logprob: number;
  /** Calibrated probability that the answer is wrong, in [0, 1]. */
  risk: number;
  /** L2-normalised pooled image embedding from the encoder. */
  embedding: Float32Array;
  image_sha256: string;
  source: HardExampleSource;
  /** The reference answer (from feedback or the pool), as text or JSON; null until known. */
  label: string | null;
  status: HardExampleStatus;
  /** Hash of the client's request id (never the id itself); null for benchmark rows. */
  request_id_hash: string | null;
}

/** A hard example to write. */
export interface NewHardExample extends Omit<HardExample, 'label' | 'status' | 'request_id_hash'> {
  /** De-identified image bytes (PNG), only when image logging is enabled. */
  image?: Uint8Array | null;
  label?: string | null;
  /** Defaults to `new`, or `labelled` when a label is given. */
  status?: HardExampleStatus;
  request_id_hash?: string | null;
}

/** A labelled SFT sample with its image embedding: the pool that similarity expansion searches. */
export interface PoolSample {
  id: string;
  sample_id: string;
  case_id: string;
  task: TaskType;
  finding: FindingKey | null;
  question: string;
  answer: string;
  embedding: Float32Array;
  split: Split;
}

/** A preference pair; exportable as a TRL row (`prompt`, `chosen`, `rejected`, `images: [image_ref]`). */
export interface PreferencePair {
  id: string;
  /** Loop round (run ordinal) that produced the pair. */
  round: number;
  prompt: string;
  /** Where the image lives: a hard-example id, a pool case id or a phantom render reference. */
  image_ref: string;
  chosen: string;
  rejected: string;
  kind: PairKind;
  weight: number;
  /** JSON: which case, finding, generator and seed produced the pair. */
  provenance: string;
}

/** A loop run; `record` is the run's JSON document (config, counts, curves, eval, gate decision). */
export interface RunRecord {
  id: string;
  started_at: number;
  finished_at: number | null;
  status: RunStatus;
  record: string;
}

/**
 * The minimal record of one answer, kept for a retention window so that feedback works for every
 * answer, flagged or not (the server's `CHEXPO_ANSWER_RETENTION_HOURS`). Hashes, never raw ids or
 * keys; coded values and model outputs only; the de-identified image only where images are stored.
 */
export interface AnswerRecord extends Omit<HardExample, 'source' | 'label' | 'status' | 'request_id_hash'> {
  /** sha256("chexpo-request:" + key id + ":" + request_id), as in hard_examples (the asking key's namespace). */
  request_id_hash: string;
  /** sha256("chexpo-key:" + key id) of the API key that asked. */
  key_hash: string;
  answer_prob: number;
  /** True when the answer was also logged as a hard example. */
  flagged: boolean;
  /** Input-gate warning codes, comma-separated ('' for none). */
  input_warnings: string;
}

/** An answer record to write: with the de-identified PNG when image logging is on. */
export interface NewAnswerRecord extends AnswerRecord {
  image?: Uint8Array | null;
}

/** Row type of each table, as read back. */
export interface TableRows {
  hard_examples: HardExample;
  pool: PoolSample;
  pairs: PreferencePair;
  runs: RunRecord;
  answers: AnswerRecord;
}

export interface Neighbour<Row> {
  row: Row;
  /** Cosine distance 1 − cos θ, in [0, 2]; for unit vectors it equals ‖a − b‖² / 2. */
  distance: number;
}

export interface NearestOptions {
  /** Number of neighbours to return (at most). */
  k: number;
  /** SQL filter applied before ranking (prefilter), e.g. `split = 'train' AND finding = 'nodule'`. Build literals with `sqlString`. */
  where?: string;
}

export interface ListHardExamplesOptions {
  status?: HardExampleStatus;
  source?: HardExampleSource;
  /** Only rows created at or after this epoch-ms instant. */
  since?: number;
  /** Oldest first; at most this many rows. */
  limit?: number;
}

export interface ListAnswersOptions {
  /** Only records created at or after this epoch-ms instant (the retention window's start). */
  since?: number;
  /** Only flagged (true) or only unflagged (false) answers. */
  flagged?: boolean;
  /** Newest first; at most this many records. */
  limit?: number;
}

/** Tables whose rows may hold a de-identified image. */
export type ImageTableName = 'hard_examples' | 'answers';

export interface ListOptions {
  /** SQL filter, e.g. `round = 3`. */
  where?: string;
  limit?: number;
}

export interface TableStats {
  table: TableName;
  rows: number;
  fragments: number;
  /** Fragments below the size compaction aims for (LanceDB's "small fragments"). */
  smallFragments: number;
  version: number;
}

export interface CompactionReport {
  table: TableName;
  fragmentsRemoved: number;
  fragmentsAdded: number;
  oldVersionsRemoved: number;
  bytesRemoved: number;
}

/** What the serving path writes through the write queue. */
export interface HardExampleSink {
  addHardExamples(rows: readonly NewHardExample[]): Promise<void>;
}

export interface ChexpoStore extends HardExampleSink {
  readonly embeddingDim: number;
  addPool(rows: readonly PoolSample[]): Promise<void>;
  addPairs(rows: readonly PreferencePair[]): Promise<void>;
  /** Insert or replace the run with this id. */
  putRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | null>;
  /** Most recently started first. */
  listRuns(options?: { status?: RunStatus; limit?: number }): Promise<RunRecord[]>;
  listHardExamples(options?: ListHardExamplesOptions): Promise<HardExample[]>;
  listPool(options?: ListOptions): Promise<PoolSample[]>;
  listPairs(options?: ListOptions): Promise<PreferencePair[]>;
  /** Which of these hard-example ids the table holds (journal replay skips them). */
  hardExampleIds(ids: readonly string[]): Promise<Set<string>>;
  /** Image bytes of the rows that have one, by id: hard examples unless `table` says answers. */
  getImages(ids: readonly string[], table?: ImageTableName): Promise<Map<string, Uint8Array>>;
  /** Which of these row ids hold an image, without reading the bytes (the review console's list). */
  imageIds(table: ImageTableName, ids: readonly string[]): Promise<Set<string>>;
  /**
   * Feedback: set the label of the hard example(s) logged for this request and mark them
   * `labelled`. Returns the number of rows updated (0 when none matches, e.g. the answer was not
   * flagged, or it is still in the write queue: flush the queue first).
   */
  setLabel(requestIdHash: string, label: string): Promise<number>;
  /**
   * Feedback: append one entry to the label history of the hard example(s) logged for this request
   * (never overwriting an earlier one) and mark them `labelled`. `full` counts rows whose history
   * already holds MAX_LABEL_ENTRIES (left unchanged).
   */
  appendLabel(requestIdHash: string, entry: LabelEntry): Promise<AppendLabelResult>;
  addAnswers(rows: readonly NewAnswerRecord[]): Promise<void>;
  /**
   * The newest answer record of this request created at or after `since` (epoch ms), with its image
   * when one was stored; null when none (never written, expired, or still in the write queue).
   */
  findAnswer(
    requestIdHash: string,
    since: number,
  ): Promise<(AnswerRecord & { image: Uint8Array | null }) | null>;
  /** Answer records (without their images), newest first: the review console's queue. */
  listAnswers(options?: ListAnswersOptions): Promise<AnswerRecord[]>;
  /** Deletes answer records created before `before` (epoch ms); returns how many. */
  deleteAnswersBefore(before: number): Promise<number>;
  /** Move hard examples along their lifecycle; returns the number of rows updated. */
  setStatus(ids: readonly string[], status: HardExampleStatus): Promise<number>;
  /** Exact k nearest rows by cosine distance, nearest first. */
  nearest<T extends VectorTableName>(
    table: T,
    vector: Float32Array,
    options: NearestOptions,
  ): Promise<Neighbour<TableRows[T]>[]>;
  count(table: TableName, where?: string): Promise<number>;
  stats(table: TableName): Promise<TableStats>;
  /** Merge small fragments and remove old versions, on every table. */
  compact(): Promise<CompactionReport[]>;
  /** Release handles. Idempotent; any other call afterwards throws STORE_CLOSED. */
  close(): Promise<void>;
}
