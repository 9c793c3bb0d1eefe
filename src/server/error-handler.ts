/**
 * Fastify's error and not-found handlers: everything becomes `{ error: { code, message, details? } }`
 * with the catalogue status (and Retry-After where the catalogue says so). Server faults are logged
 * with their cause; the client never sees a stack.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorSpec } from '../errors/define.ts';
import { ERROR_CATALOGUE } from '../errors/public.ts';
import { toApiError } from './error-mapping.ts';
import { type ApiError, apiError } from './errors.ts';
import type { Metrics } from './metrics.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Error body dialect of a route: absent = chexpo's `{ error: { code, message, details? } }`;
     * `openai` adds OpenAI's `type` and `param`; `inference` is the Open Inference Protocol's
     * `{ error: "<message>" }` (the /v2 routes).
     */
    errorFormat?: 'openai' | 'inference';
  }
}

export function errorBody(error: ApiError): { error: { code: string; message: string; details?: unknown } } {
  return {
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
  };
}

export type SendError = (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** OpenAI's error `type` for a status (their clients branch on the status, some log the type). */
function openAiErrorType(status: number): string {
  if (status >= 500) return 'server_error';
  const byStatus: Record<number, string> = {
    401: 'authentication_error',
    403: 'permission_error',
    404: 'not_found_error',
    429: 'rate_limit_error',
  };
  return byStatus[status] ?? 'invalid_request_error';
}

/** The error body in the route's dialect (see FastifyContextConfig.errorFormat). */
export function errorBodyFor(error: ApiError, format: 'openai' | 'inference' | undefined): unknown {
  if (format === 'inference') return { error: `${error.code}: ${error.message}` };
  const body = errorBody(error);
  if (format !== 'openai') return body;
  return {
    error: {
      ...body.error,
      type: openAiErrorType(error.statusCode),
      param: error.details?.[0]?.field ?? null,
    },
  };
}

/** Installs the handlers; returns the same sender for errors raised outside them (frameworkErrors). */
export function installErrorHandling(
  app: FastifyInstance,
  options: { metrics: Metrics; retryAfterSeconds: number },
): SendError {
  const send = (
    error: ApiError,
    request: FastifyRequest,
    reply: FastifyReply,
    cause: unknown,
  ): FastifyReply => {
    // An unknown path under /v2 still answers in the Open Inference Protocol's words.
    const format =
      request.routeOptions?.config?.errorFormat ??
      (/^\/v2(\/|\?|$)/.test(request.url) ? 'inference' : undefined);
    if (error.statusCode >= 500 && error.statusCode !== 503) {
      request.log.error({ err: cause, code: error.code }, 'request failed');
    } else {
      request.log.info({ code: error.code }, error.message);
    }
    options.metrics.httpErrors.inc({ code: error.code });
    const spec: ErrorSpec = ERROR_CATALOGUE[error.code];
    if (spec.retryAfter && !reply.hasHeader('retry-after')) {
      reply.header('Retry-After', options.retryAfterSeconds);
    }
    return reply
      .code(error.statusCode)
      .type('application/json; charset=utf-8')
      .send(errorBodyFor(error, format));
  };
  const sendError: SendError = (err, request, reply) => send(toApiError(err), request, reply, err);
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const error = apiError('NOT_FOUND', `${request.method} ${request.url.split('?')[0]}`);
    return send(error, request, reply, undefined);
  });
  return sendError;
}
