/**
 * Bounds on every request and connection, whatever the route:
 *
 * - one deadline per request, counted from its arrival (after the headers), that covers reading
 *   the body: a body still arriving when it passes fails with REQUEST_TIMEOUT (408) and the
 *   connection is closed; once the body is in, the same deadline cancels the work
 *   (`request.deadline`, DEADLINE_EXCEEDED 504 in the answer route);
 * - a response sent before the body finished arriving (a refusal, a timeout, a limit) closes the
 *   connection, so a trickling client cannot keep it open by sending the rest of its body;
 * - a cap on open connections per process (`server.maxConnections`: Node closes the ones beyond);
 * - fastify's own errors outside the routes (router limits, the HTTP parser) answer catalogue
 *   errors instead of fastify's bodies.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { ErrorCode } from '../errors/public.ts';
import { errorBody } from './error-handler.ts';
import { type ApiError, apiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Aborts when the whole-request deadline passes; its reason is the catalogue error to answer. */
    deadline: AbortSignal;
  }
}

/** The longest path parameter the router accepts; ids in the schemas (run ids) use the same bound. */
export const MAX_PARAM_LENGTH = 128;

const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();

/** Whether the whole body has arrived (`complete` on a socket; an injected request only ends). */
export function bodyReceived(request: FastifyRequest): boolean {
  return request.raw.complete === true || request.raw.readableEnded;
}

function expire(
  request: FastifyRequest,
  reply: FastifyReply,
  controller: AbortController,
  timeoutMs: number,
) {
  if (reply.sent) return;
  if (bodyReceived(request)) {
    controller.abort(apiError('DEADLINE_EXCEEDED', `${timeoutMs} ms`));
    return;
  }
  const error = apiError('REQUEST_TIMEOUT', `the body was still arriving after ${timeoutMs} ms`);
  controller.abort(error);
  // Whoever reads the body (fastify's JSON parser, busboy) fails with this error and answers it;
  // with no reader yet, answer directly.
  if (request.raw.listenerCount('error') > 0) request.raw.emit('error', error);
  else reply.send(error);
}

export function installRequestBounds(
  app: FastifyInstance,
  options: { timeoutMs: number; maxConnections: number },
): void {
  const { timeoutMs } = options;
  app.decorateRequest('deadline', null as unknown as AbortSignal);
  app.addHook('onRequest', (request, reply, done) => {
    const controller = new AbortController();
    request.deadline = controller.signal;
    const timer = setTimeout(() => expire(request, reply, controller, timeoutMs), timeoutMs);
    timers.set(request, timer);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
  app.addHook('onSend', async (request, reply) => {
    if (!bodyReceived(request)) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request) => {
    clearTimeout(timers.get(request));
  });
  if (options.maxConnections > 0) app.server.maxConnections = options.maxConnections;
}

/** A URL for the logs: the path only (query strings can carry keys or identifiers). */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : `${url.slice(0, at)}?[redacted]`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** fastify's request serializer with the query string redacted from `url`. */
export function withRedactedUrls(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const base = typeof logger === 'object' ? logger : {};
  return {
    ...base,
    serializers: {
      ...(base as { serializers?: Record<string, unknown> }).serializers,
      req: (request: LoggedRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  } as FastifyServerOptions['logger'];
}

/** What the HTTP parser's errors (before fastify sees a request) answer. */
function clientErrorCode(code: string | undefined): ErrorCode {
  if (code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  return 'INVALID_REQUEST';
}

const CLIENT_ERROR_DETAIL: Partial<Record<string, string>> = {
  HPE_INVALID_EOF_STATE: 'the connection ended before the request was complete',
};

/**
 * Node's `clientError` (malformed request line or headers, headers over 16 KiB, a body cut short by
 * a half-close, Node's own request timeout): a catalogue error body, then the socket is closed.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = clientErrorCode(error.code);
  const apiErr: ApiError = apiError(
    code,
    code === 'INVALID_REQUEST'
      ? (CLIENT_ERROR_DETAIL[error.code ?? ''] ?? 'malformed HTTP request')
      : undefined,
  );
  this.log.debug({ code: apiErr.code, parser: error.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(errorBody(apiErr));
    socket.write(
      `HTTP/1.1 ${apiErr.statusCode} ${STATUS_CODES[apiErr.statusCode]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
