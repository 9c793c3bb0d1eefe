/**
 * Explicit Arrow schemas of the four tables. Every write is encoded against these (never inferred
 * from the rows), so empty tables can be created up front and column types never drift; opening
 * an existing table checks its columns against them.
 */
import type { DataType, Field, FixedSizeList, Float32, Schema } from 'apache-arrow';
import { arrow } from './arrow.ts';
import type { TableName } from './contract.ts';
import { StoreError } from './errors.ts';

const text = (name: string, nullable = false): Field => new arrow.Field(name, new arrow.Utf8(), nullable);
const f64 = (name: string): Field => new arrow.Field(name, new arrow.Float64(), false);
const epochMs = (name: string, nullable = false): Field =>
  new arrow.Field(name, new arrow.TimestampMillisecond(), nullable);

/** (dim,) float32 vector as a fixed-size list, the type LanceDB searches. */
export function vectorType(dim: number): FixedSizeList<Float32> {
  return new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true));
}

/** The model's output and its confidences: the same columns in hard_examples and answers. */
function answerFields(): Field[] {
  return [
    text('model_version'),
    text('task'),
    text('question'),
    text('answer'),
    new arrow.Field('token_probs', new arrow.List(new arrow.Field('item', new arrow.Float32(), true)), false),
    f64('min_prob'),
    f64('mean_logprob'),
  ];
}

function hardExamplesSchema(dim: number): Schema {
  return new arrow.Schema([
    text('id'),
    epochMs('created_at'),
    ...answerFields(),
    f64('risk'),
    new arrow.Field('embedding', vectorType(dim), false),
    text('image_sha256'),
    new arrow.Field('image', new arrow.Binary(), true),
    text('source'),
    text('label', true),
    text('status'),
    text('request_id_hash', true),
  ]);
}

function poolSchema(dim: number): Schema {
  return new arrow.Schema([
    text('id'),
    text('sample_id'),
    text('case_id'),
    text('task'),
    text('finding', true),
    text('question'),
    text('answer'),
    new arrow.Field('embedding', vectorType(dim), false),
    text('split'),
  ]);
}

function pairsSchema(): Schema {
  return new arrow.Schema([
    text('id'),
    new arrow.Field('round', new arrow.Int32(), false),
    text('prompt'),
    text('image_ref'),
    text('chosen'),
    text('rejected'),
    text('kind'),
    f64('weight'),
    text('provenance'),
  ]);
}

function answersSchema(dim: number): Schema {
  return new arrow.Schema([
    text('id'),
    epochMs('created_at'),
    text('request_id_hash'),
    text('key_hash'),
    ...answerFields(),
    f64('answer_prob'),
    f64('risk'),
    new arrow.Field('flagged', new arrow.Bool(), false),
    new arrow.Field('embedding', vectorType(dim), false),
    text('image_sha256'),
    new arrow.Field('image', new arrow.Binary(), true),
    text('input_warnings'),
  ]);
}

function runsSchema(): Schema {
  return new arrow.Schema([
    text('id'),
    epochMs('started_at'),
    epochMs('finished_at', true),
    text('status'),
    text('record'),
  ]);
}

export function tableSchema(table: TableName, embeddingDim: number): Schema {
  switch (table) {
    case 'hard_examples':
      return hardExamplesSchema(embeddingDim);
    case 'pool':
      return poolSchema(embeddingDim);
    case 'pairs':
      return pairsSchema();
    case 'runs':
      return runsSchema();
    case 'answers':
      return answersSchema(embeddingDim);
  }
}

function typeName(type: DataType): string {
  return type.toString();
}

/**
 * Throws STORE_SCHEMA_MISMATCH unless `actual` has exactly the expected columns, in order, with
 * the same types (nullability is not compared: LanceDB may relax it).
 */
export function assertSchemaMatches(table: TableName, expected: Schema, actual: Schema): void {
  const want = expected.fields.map((f) => `${f.name}: ${typeName(f.type)}`);
  const got = actual.fields.map((f) => `${f.name}: ${typeName(f.type)}`);
  const same = want.length === got.length && want.every((w, i) => w === got[i]);
  if (!same) {
    const missing = want.filter((w) => !got.includes(w));
    const extra = got.filter((g) => !want.includes(g));
    throw new StoreError(
      'STORE_SCHEMA_MISMATCH',
      `table ${table} has other columns than this code writes (expected but missing: ${missing.join(', ') || 'none'}; ` +
        `unexpected: ${extra.join(', ') || 'none'}). A different embeddingDim, or a table from another version?`,
    );
  }
}
