/**
 * Rows ⇄ Arrow. Writes are validated here (LanceDB itself accepts a vector of the wrong length
 * into a fixed-size-list column without complaint) and encoded against the explicit schemas;
 * reads turn LanceDB's records (Arrow `Vector`s for list columns) into the contract's plain types.
 */

import type { Table as ArrowTable } from 'apache-arrow';
import type { FindingKey, Split, TaskType } from '../data/types.ts';
import { recordsToArrow } from './arrow-encode.ts';
import {
  type AnswerRecord,
  HARD_EXAMPLE_SOURCES,
  HARD_EXAMPLE_STATUSES,
  type HardExample,
  type HardExampleSource,
  type HardExampleStatus,
  type HardExampleTask,
  type NewAnswerRecord,
  type NewHardExample,
  PAIR_KINDS,
  type PairKind,
  type PoolSample,
  type PreferencePair,
  RUN_STATUSES,
  type RunRecord,
  type RunStatus,
  type TableName,
} from './contract.ts';
import { StoreError } from './errors.ts';
import { tableSchema } from './schemas.ts';

type Record_ = Record<string, unknown>;

function invalid(table: TableName, id: unknown, what: string): StoreError {
  return new StoreError('STORE_INVALID_ROW', `${table} row ${JSON.stringify(id)}: ${what}`);
}

function checkText(table: TableName, row: Record_, field: string, nullable = false): void {
  const v = row[field];
  if (nullable && (v === null || v === undefined)) return;
  if (typeof v !== 'string') throw invalid(table, row.id, `${field} must be a string`);
}

function checkNumber(table: TableName, row: Record_, field: string): void {
  const v = row[field];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalid(table, row.id, `${field} must be a finite number`);
}

function checkOneOf(table: TableName, row: Record_, field: string, allowed: readonly string[]): void {
  if (!allowed.includes(row[field] as string)) {
    throw invalid(
      table,
      row.id,
      `${field} must be one of ${allowed.join('|')}, got ${JSON.stringify(row[field])}`,
    );
  }
}

/** Throws STORE_INVALID_VECTOR unless `v` is a Float32Array of `dim` finite values. */
export function checkVector(v: unknown, dim: number, what: string): asserts v is Float32Array {
  if (!(v instanceof Float32Array))
    throw new StoreError('STORE_INVALID_VECTOR', `${what}: expected a Float32Array`);
  if (v.length !== dim) {
    throw new StoreError(
      'STORE_INVALID_VECTOR',
      `${what}: length ${v.length}, the store's embeddingDim is ${dim}`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]))
      throw new StoreError('STORE_INVALID_VECTOR', `${what}: element ${i} is ${v[i]}`);
  }
}

function checkId(table: TableName, row: Record_): void {
  if (typeof row.id !== 'string' || row.id.length === 0)
    throw invalid(table, row.id, 'id must be a non-empty string');
}

/**
 * Throws STORE_INVALID_ROW / STORE_INVALID_VECTOR unless `row` can be written to a store of
 * dimension `dim`; the server passes it as the write queue's `validate` so a bad row is dropped
 * at enqueue time instead of failing a whole batch.
 */
export function validateNewHardExample(row: NewHardExample, dim: number): void {
  const t: TableName = 'hard_examples';
  const r = row as unknown as Record_;
  checkId(t, r);
  for (const f of ['model_version', 'question', 'answer', 'image_sha256', 'task']) checkText(t, r, f);
  for (const f of ['created_at', 'min_prob', 'mean_logprob', 'risk']) checkNumber(t, r, f);
  checkOneOf(t, r, 'source', HARD_EXAMPLE_SOURCES);
  checkText(t, r, 'label', true);
  checkText(t, r, 'request_id_hash', true);
  if (row.status !== undefined) checkOneOf(t, r, 'status', HARD_EXAMPLE_STATUSES);
  if (!Array.isArray(row.token_probs) || !row.token_probs.every(Number.isFinite)) {
    throw invalid(t, row.id, 'token_probs must be an array of finite numbers');
  }
  if (row.image != null && !(row.image instanceof Uint8Array))
    throw invalid(t, row.id, 'image must be bytes');
  checkVector(row.embedding, dim, `hard_examples row ${row.id} embedding`);
}

export function encodeHardExamples(rows: readonly NewHardExample[], dim: number): ArrowTable {
  const records = rows.map((row) => {
    validateNewHardExample(row, dim);
    const label = row.label ?? null;
    const status: HardExampleStatus = row.status ?? (label === null ? 'new' : 'labelled');
    return {
      id: row.id,
      created_at: row.created_at,
      model_version: row.model_version,
      task: row.task,
      question: row.question,
      answer: row.answer,
      token_probs: row.token_probs,
      min_prob: row.min_prob,
      mean_logprob: row.mean_logprob,
      risk: row.risk,
      embedding: row.embedding,
      image_sha256: row.image_sha256,
      image: row.image ?? null,
      source: row.source,
      label,
      status,
      request_id_hash: row.request_id_hash ?? null,
    };
  });
  return recordsToArrow(tableSchema('hard_examples', dim), records);
}

/** Throws STORE_INVALID_ROW / STORE_INVALID_VECTOR unless `row` fits the answers table of width `dim`. */
export function validateNewAnswerRecord(row: NewAnswerRecord, dim: number): void {
  const t: TableName = 'answers';
  const r = row as unknown as Record_;
  checkId(t, r);
  for (const f of ['request_id_hash', 'key_hash', 'model_version', 'task', 'question', 'answer'])
    checkText(t, r, f);
  for (const f of ['image_sha256', 'input_warnings']) checkText(t, r, f);
  for (const f of ['created_at', 'min_prob', 'mean_logprob', 'answer_prob', 'risk']) checkNumber(t, r, f);
  if (typeof row.flagged !== 'boolean') throw invalid(t, row.id, 'flagged must be a boolean');
  if (!Array.isArray(row.token_probs) || !row.token_probs.every(Number.isFinite)) {
    throw invalid(t, row.id, 'token_probs must be an array of finite numbers');
  }
  if (row.image != null && !(row.image instanceof Uint8Array))
    throw invalid(t, row.id, 'image must be bytes');
  checkVector(row.embedding, dim, `answers row ${row.id} embedding`);
}

export function encodeAnswers(rows: readonly NewAnswerRecord[], dim: number): ArrowTable {
  const records = rows.map((row) => {
    validateNewAnswerRecord(row, dim);
    return { ...row, image: row.image ?? null };
  });
  return recordsToArrow(tableSchema('answers', dim), records);
}

export function decodeAnswer(r: Record_): AnswerRecord & { image: Uint8Array | null } {
  // The columns the two tables share decode alike; the hard-example-only ones are dropped.
  const { source: _s, label: _l, status: _t, request_id_hash: _h, ...shared } = decodeHardExample(r);
  return {
    ...shared,
    request_id_hash: str(r.request_id_hash),
    key_hash: str(r.key_hash),
    answer_prob: num(r.answer_prob),
    flagged: Boolean(r.flagged),
    input_warnings: str(r.input_warnings),
    image: r.image == null ? null : Uint8Array.from(r.image as Uint8Array),
  };
}

export function encodePool(rows: readonly PoolSample[], dim: number): ArrowTable {
  const t: TableName = 'pool';
  const records = rows.map((row) => {
    const r = row as unknown as Record_;
    checkId(t, r);
    for (const f of ['sample_id', 'case_id', 'task', 'question', 'answer', 'split']) checkText(t, r, f);
    checkText(t, r, 'finding', true);
    checkVector(row.embedding, dim, `pool row ${row.id} embedding`);
    return { ...row, finding: row.finding ?? null };
  });
  return recordsToArrow(tableSchema(t, dim), records);
}

export function encodePairs(rows: readonly PreferencePair[]): ArrowTable {
  const t: TableName = 'pairs';
  const records = rows.map((row) => {
    const r = row as unknown as Record_;
    checkId(t, r);
    for (const f of ['prompt', 'image_ref', 'chosen', 'rejected', 'provenance']) checkText(t, r, f);
    checkOneOf(t, r, 'kind', PAIR_KINDS);
    checkNumber(t, r, 'weight');
    if (!Number.isInteger(row.round)) throw invalid(t, row.id, 'round must be an integer');
    return { ...row };
  });
  return recordsToArrow(tableSchema(t, 0), records);
}

export function encodeRun(run: RunRecord): ArrowTable {
  const t: TableName = 'runs';
  const r = run as unknown as Record_;
  checkId(t, r);
  checkNumber(t, r, 'started_at');
  if (run.finished_at !== null) checkNumber(t, r, 'finished_at');
  checkOneOf(t, r, 'status', RUN_STATUSES);
  checkText(t, r, 'record');
  return recordsToArrow(tableSchema(t, 0), [{ ...run }]);
}

/** A list column as LanceDB returns it: an Arrow Vector (or, defensively, a plain array). */
function listValues(v: unknown): ArrayLike<number> {
  if (v && typeof v === 'object' && 'toArray' in v && typeof v.toArray === 'function') {
    return v.toArray() as ArrayLike<number>;
  }
  return (v ?? []) as ArrayLike<number>;
}

/** A copy: the Arrow view may share a buffer with the whole batch. */
function toFloat32(v: unknown): Float32Array {
  return Float32Array.from(listValues(v));
}

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v ?? null) as string | null;
const num = (v: unknown): number => Number(v);

export function decodeHardExample(r: Record_): HardExample {
  return {
    id: str(r.id),
    created_at: num(r.created_at),
    model_version: str(r.model_version),
    task: str(r.task) as HardExampleTask,
    question: str(r.question),
    answer: str(r.answer),
    token_probs: Array.from(listValues(r.token_probs)),
    min_prob: num(r.min_prob),
    mean_logprob: num(r.mean_logprob),
    risk: num(r.risk),
    embedding: toFloat32(r.embedding),
    image_sha256: str(r.image_sha256),
    source: str(r.source) as HardExampleSource,
    label: strOrNull(r.label),
    status: str(r.status) as HardExampleStatus,
    request_id_hash: strOrNull(r.request_id_hash),
  };
}

export function decodePoolSample(r: Record_): PoolSample {
  return {
    id: str(r.id),
    sample_id: str(r.sample_id),
    case_id: str(r.case_id),
    task: str(r.task) as TaskType,
    finding: strOrNull(r.finding) as FindingKey | null,
    question: str(r.question),
    answer: str(r.answer),
    embedding: toFloat32(r.embedding),
    split: str(r.split) as Split,
  };
}

export function decodePair(r: Record_): PreferencePair {
  return {
    id: str(r.id),
    round: num(r.round),
    prompt: str(r.prompt),
    image_ref: str(r.image_ref),
    chosen: str(r.chosen),
    rejected: str(r.rejected),
    kind: str(r.kind) as PairKind,
    weight: num(r.weight),
    provenance: str(r.provenance),
  };
}

export function decodeRun(r: Record_): RunRecord {
  return {
    id: str(r.id),
    started_at: num(r.started_at),
    finished_at: r.finished_at == null ? null : num(r.finished_at),
    status: str(r.status) as RunStatus,
    record: str(r.record),
  };
}

/** Columns of hard_examples read back (all but the image bytes). */
export const HARD_EXAMPLE_COLUMNS = tableSchema('hard_examples', 1)
  .fields.map((f) => f.name)
  .filter((name) => name !== 'image');

/** Every answers column but the image bytes. */
export const ANSWER_COLUMNS = tableSchema('answers', 1)
  .fields.map((f) => f.name)
  .filter((name) => name !== 'image');
