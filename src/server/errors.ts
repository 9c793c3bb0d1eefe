/** ApiError: the error routes and services throw, with a code of the API catalogue (src/errors/public.ts). */
import { ERROR_CATALOGUE, type ErrorCode } from '../errors/public.ts';

export interface ErrorDetail {
  field?: string;
  message: string;
}

/** An error with a catalogue code; throw it from routes and services. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details?: ErrorDetail[];

  constructor(code: ErrorCode, detail?: string, options?: { details?: ErrorDetail[]; cause?: unknown }) {
    const base = ERROR_CATALOGUE[code].message;
    super(detail ? `${base}: ${detail}` : base, { cause: options?.cause });
    this.code = code;
    this.statusCode = ERROR_CATALOGUE[code].status;
    this.details = options?.details;
  }
}

export function apiError(
  code: ErrorCode,
  detail?: string,
  options?: { details?: ErrorDetail[]; cause?: unknown },
): ApiError {
  return new ApiError(code, detail, options);
}
