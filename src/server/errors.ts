/** ApiError: the error routes and services throw, with a code of the API catalogue (src/errors/public.ts). */
import { defineErrors } from '../errors/define.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors/public.ts';

export interface ErrorDetail {
  field?: string;
  message: string;
}

/** An error with a catalogue code; throw it from routes and services. */
export class ApiError extends defineErrors('ApiError', ERROR_CATALOGUE) {
  declare readonly code: ErrorCode;
  declare readonly statusCode: number;
  declare readonly details?: ErrorDetail[];

  /** The catalogue message, with `detail` after a colon. */
  constructor(code: ErrorCode, detail?: string, options?: { details?: ErrorDetail[]; cause?: unknown }) {
    const base = ERROR_CATALOGUE[code].message;
    super(code, detail ? `${base}: ${detail}` : base, options);
  }
}

export function apiError(
  code: ErrorCode,
  detail?: string,
  options?: { details?: ErrorDetail[]; cause?: unknown },
): ApiError {
  return new ApiError(code, detail, options);
}
