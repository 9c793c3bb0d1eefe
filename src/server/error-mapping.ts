/**
 * Maps anything thrown during a request to a catalogue error: our ApiError, fastify's own FST_*
 * errors (content type, body limit, JSON, validation), @fastify/multipart limits, and any error with
 * a catalogue `.code` (the image decoder's ImageError, engine errors) by duck typing.
 */
import { ERROR_CATALOGUE, type ErrorCode, isErrorCode } from '../errors/public.ts';
import { ApiError, type ErrorDetail } from './errors.ts';

const FASTIFY_CODES: Record<string, { code: ErrorCode; detail?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE' },
  FST_PARTS_LIMIT: { code: 'BODY_TOO_LARGE', detail: 'too many multipart parts' },
  FST_FIELDS_LIMIT: { code: 'BODY_TOO_LARGE', detail: 'too many multipart fields' },
  FST_FILES_LIMIT: { code: 'INVALID_REQUEST', detail: 'only one file part (image) is accepted' },
  FST_REQ_FILE_TOO_LARGE: { code: 'IMAGE_TOO_LARGE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_REQUEST', detail: 'the JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_REQUEST', detail: 'the body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'INVALID_REQUEST',
    detail: 'Content-Length does not match the body',
  },
  FST_PROTO_VIOLATION: { code: 'INVALID_REQUEST', detail: 'prototype property names are not allowed' },
  FST_INVALID_JSON_FIELD_ERROR: { code: 'INVALID_REQUEST', detail: 'a multipart field is not valid JSON' },
  FST_ERR_NOT_FOUND: { code: 'NOT_FOUND' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'URI_TOO_LONG' },
  FST_ERR_BAD_URL: { code: 'INVALID_REQUEST', detail: 'a path component is not valid URL encoding' },
  FST_UNDER_PRESSURE: { code: 'OVERLOADED' },
};

/** Uncoded errors (other plugins', Node's) that carry an HTTP status of their own. */
const BY_STATUS = new Map<number, ErrorCode>([
  [413, 'BODY_TOO_LARGE'],
  [415, 'UNSUPPORTED_MEDIA_TYPE'],
  [404, 'NOT_FOUND'],
]);

/** Shape of one ajv error as fastify attaches it (`error.validation`). */
interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

interface Thrown {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: ValidationIssue[];
}

export function toApiError(thrown: unknown): ApiError {
  if (thrown instanceof ApiError) return thrown;
  const err = (thrown && typeof thrown === 'object' ? thrown : {}) as Thrown;
  const message = typeof err.message === 'string' ? err.message : String(thrown);

  if (Array.isArray(err.validation)) return fromValidation(err.validation);

  if (typeof err.code === 'string') {
    const known = FASTIFY_CODES[err.code];
    if (known) return new ApiError(known.code, known.detail, { cause: thrown });
    if (isErrorCode(err.code)) {
      // A coded error from the decoder or the engine: its own message is written for clients,
      // except for server faults, whose text may describe internals.
      const spec = ERROR_CATALOGUE[err.code];
      const error = new ApiError(err.code, undefined, { cause: thrown });
      if (spec.status < 500) Object.defineProperty(error, 'message', { value: message });
      return error;
    }
  }

  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  const byStatus = BY_STATUS.get(status);
  if (byStatus) return new ApiError(byStatus, undefined, { cause: thrown });
  // Other client errors (e.g. a JSON SyntaxError, which fastify marks 400) describe the client's input.
  if (status >= 400 && status < 500) return new ApiError('INVALID_REQUEST', message, { cause: thrown });
  return new ApiError('INTERNAL', undefined, { cause: thrown });
}

function fieldPath(issue: ValidationIssue, property?: unknown): string {
  const base = issue.instancePath || '';
  return typeof property === 'string' ? `${base}/${property}` : base || '/';
}

function fromValidation(issues: ValidationIssue[]): ApiError {
  const unknown = issues.filter((i) => i.keyword === 'additionalProperties');
  if (unknown.length > 0) {
    const details = unknown.map((i) => ({
      field: fieldPath(i, i.params.additionalProperty),
      message: 'is not a known field',
    }));
    return new ApiError('UNKNOWN_FIELD', details.map((d) => d.field).join(', '), { details });
  }
  const details: ErrorDetail[] = issues.map((i) =>
    i.keyword === 'required'
      ? { field: fieldPath(i, i.params.missingProperty), message: 'is required' }
      : { field: fieldPath(i), message: i.message ?? i.keyword },
  );
  const summary = details.map((d) => `${d.field} ${d.message}`).join('; ');
  return new ApiError('INVALID_REQUEST', summary, { details });
}
