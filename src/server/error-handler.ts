/**
 * Fastify's error and not-found handlers: everything becomes `{ error: { code, message, details? } }`
 * with the catalogue status (and Retry-After where the catalogue says so). Server faults are logged
 * with their cause; the client never sees a stack.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toApiError } from './error-mapping.ts';
import { type ApiError, apiError, ERROR_CATALOGUE, type ErrorSpec } from './errors.ts';
import type { Metrics } from './metrics.ts';

export function errorBody(error: ApiError): { error: { code: string; message: string; details?: unknown } } {
  return {
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
  };
}

export type SendError = (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

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
    return reply.code(error.statusCode).type('application/json; charset=utf-8').send(errorBody(error));
  };
  const sendError: SendError = (err, request, reply) => send(toApiError(err), request, reply, err);
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const error = apiError('NOT_FOUND', `${request.method} ${request.url.split('?')[0]}`);
    return send(error, request, reply, undefined);
  });
  return sendError;
}
