/**
 * A per-request AbortSignal that fires when the deadline passes or the client goes away, and a race
 * that stops waiting for a service the moment the signal fires (a service that ignores its signal
 * cannot hang a request).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from './errors.ts';

export interface RequestDeadline {
  signal: AbortSignal;
  /** Clears the timer and listeners; call when the request is done. */
  dispose(): void;
}

/**
 * The work's signal: aborts with the whole-request deadline (`request.deadline`, counted from the
 * request's arrival, so time spent receiving the body counts) or when the client hangs up.
 */
export function requestDeadline(request: FastifyRequest, reply: FastifyReply): RequestDeadline {
  const controller = new AbortController();
  const onDeadline = (): void => controller.abort(request.deadline.reason);
  if (request.deadline.aborted) onDeadline();
  else request.deadline.addEventListener('abort', onDeadline, { once: true });
  // 'close' on the response before it finished writing means the client hung up.
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort(apiError('REQUEST_CANCELLED'));
  };
  reply.raw.once('close', onClose);
  request.raw.once('aborted', onClose);
  return {
    signal: controller.signal,
    dispose() {
      request.deadline.removeEventListener('abort', onDeadline);
      reply.raw.off('close', onClose);
      request.raw.off('aborted', onClose);
    },
  };
}

/** Resolves with `work`, or rejects with the signal's reason as soon as it aborts. */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // A service that rejects because it was aborted reports the abort's reason, not its own error.
        reject(signal.aborted ? signal.reason : err);
      },
    );
  });
}
