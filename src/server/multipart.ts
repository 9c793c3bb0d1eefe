/**
 * Collects a multipart/form-data /v1/answer request into the same body shape as the JSON form, so
 * one schema (with `image` as a Buffer) validates both. Limits: one file part named `image`, a few
 * short fields; anything over a limit or malformed becomes a catalogue error, never a 500.
 */
import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { toApiError } from './error-mapping.ts';
import { ApiError, apiError } from './errors.ts';

export const MULTIPART_FIELD_LIMITS = { fields: 16, fieldSize: 16 * 1024, parts: 24 } as const;

export interface CollectedMultipart {
  body: Record<string, unknown>;
  imageMediaType?: string;
}

function addField(body: Record<string, unknown>, name: string, value: unknown): void {
  const existing = body[name];
  if (existing === undefined) body[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else body[name] = [existing, value];
}

export interface MultipartLimits {
  maxImageBytes: number;
  /** The whole body, preamble and epilogue included (CHEXPO_BODY_LIMIT_BYTES). */
  bodyLimitBytes: number;
}

/**
 * Counts the raw body's bytes, whoever reads them: past the limit the body's readers fail with
 * BODY_TOO_LARGE (busboy counts only parts, not a preamble or an epilogue).
 */
function countBody(request: FastifyRequest, limit: number): { readonly exceeded?: ApiError; stop(): void } {
  const state: { exceeded?: ApiError; stop(): void } = { stop: () => request.raw.off('data', onData) };
  let received = 0;
  function onData(chunk: Buffer): void {
    received += chunk.length;
    if (received <= limit || state.exceeded) return;
    state.exceeded = apiError('BODY_TOO_LARGE', `the multipart body exceeds ${limit} bytes`);
    request.raw.emit('error', state.exceeded);
  }
  request.raw.on('data', onData);
  return state;
}

/** After the closing boundary: the rest of the body (an epilogue) is read and counted too. */
function drainEpilogue(request: FastifyRequest, counted: { readonly exceeded?: ApiError }): Promise<void> {
  const raw = request.raw;
  if (raw.readableEnded) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (error?: unknown): void => {
      raw.off('end', onEnd);
      raw.off('error', done);
      raw.off('close', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onEnd = (): void => done(counted.exceeded);
    raw.on('end', onEnd);
    raw.on('close', onEnd);
    raw.on('error', done);
    raw.resume();
  });
}

export async function collectMultipart(
  request: FastifyRequest,
  limits: MultipartLimits,
): Promise<CollectedMultipart> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.bodyLimitBytes) {
    throw apiError('BODY_TOO_LARGE', `the multipart body exceeds ${limits.bodyLimitBytes} bytes`);
  }
  const body: Record<string, unknown> = {};
  let imageMediaType: string | undefined;
  let counted: ReturnType<typeof countBody> | undefined;
  try {
    const parts: AsyncIterableIterator<Multipart> = request.parts({
      limits: { ...MULTIPART_FIELD_LIMITS, files: 1, fileSize: limits.maxImageBytes },
    });
    // parts() has piped the body into busboy; a second 'data' listener sees the same chunks.
    counted = countBody(request, limits.bodyLimitBytes);
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== 'image') {
          await part.toBuffer().catch(() => undefined);
          throw apiError('UNKNOWN_FIELD', `/${part.fieldname}`, {
            details: [{ field: `/${part.fieldname}`, message: 'is not a known file part (use "image")' }],
          });
        }
        body.image = await part.toBuffer();
        imageMediaType = part.mimetype;
      } else {
        if (part.valueTruncated) {
          throw apiError(
            'INVALID_REQUEST',
            `field '${part.fieldname}' is longer than ${MULTIPART_FIELD_LIMITS.fieldSize} bytes`,
            {
              details: [{ field: `/${part.fieldname}`, message: 'is too long' }],
            },
          );
        }
        addField(body, part.fieldname, part.value);
      }
    }
    await drainEpilogue(request, counted);
  } catch (err) {
    // The body's own bounds win over whatever the reader made of being cut off.
    if (counted?.exceeded) throw counted.exceeded;
    if (request.deadline?.aborted) throw request.deadline.reason;
    const mapped = toApiError(err);
    // busboy reports a malformed body (no boundary, truncated part) as a plain Error.
    if (mapped.code === 'INTERNAL' && !(err instanceof ApiError)) {
      throw apiError('INVALID_REQUEST', 'malformed multipart body', { cause: err });
    }
    throw mapped;
  } finally {
    counted?.stop();
  }
  return { body, imageMediaType };
}
