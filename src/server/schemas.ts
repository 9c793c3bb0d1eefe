/**
 * The JSON Schemas in schemas/ (the single source for validation, serialisation and OpenAPI).
 * Each is registered once with `app.addSchema` and referenced by `$id` from routes.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE } from '../errors/public.ts';

export type JsonSchema = Record<string, unknown> & { $id?: string; properties?: Record<string, unknown> };

const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);

export function loadSchema(file: string): JsonSchema {
  return JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as JsonSchema;
}

/** Wire schemas registered with fastify, by file. config.json is not one: it describes env vars. */
export const API_SCHEMA_FILES = [
  'answer-request.json',
  'answer-response.json',
  'feedback-request.json',
  'feedback-response.json',
  'error.json',
  'chat-completion-request.json',
  'chat-completion.json',
  'chat-completion-chunk.json',
  'model-list.json',
  'inference-error.json',
] as const;

export function registerSchemas(app: FastifyInstance): void {
  for (const file of API_SCHEMA_FILES)
    app.addSchema(file === 'error.json' ? errorSchema() : loadSchema(file));
}

/** error.json with the catalogue's codes as the enum of `code` (the catalogue is their one source). */
export function errorSchema(): JsonSchema {
  const schema = loadSchema('error.json');
  const error = (schema.properties as { error: { properties: Record<string, Record<string, unknown>> } })
    .error;
  error.properties.code = { ...error.properties.code, enum: Object.keys(ERROR_CATALOGUE) };
  return schema;
}

/**
 * The multipart form of AnswerRequest: the same fields, but `image` arrives as a file part (a Buffer
 * after collection), so it carries no JSON type — only the binary format that OpenAPI shows.
 */
export function multipartAnswerSchema(): JsonSchema {
  const json = loadSchema('answer-request.json');
  const { $id: _id, ...rest } = json;
  return {
    ...rest,
    description:
      'AnswerRequest as multipart/form-data: `image` is a file part, the other fields are form fields.',
    properties: {
      ...json.properties,
      image: { description: 'The image file (DICOM, PNG or JPEG).', contentEncoding: 'binary' },
    },
  };
}
