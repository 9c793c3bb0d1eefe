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

export async function collectMultipart(
  request: FastifyRequest,
  maxImageBytes: number,
): Promise<CollectedMultipart> {
  const body: Record<string, unknown> = {};
  let imageMediaType: string | undefined;
  try {
    const parts: AsyncIterableIterator<Multipart> = request.parts({
      limits: { ...MULTIPART_FIELD_LIMITS, files: 1, fileSize: maxImageBytes },
    });
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
  } catch (err) {
    const mapped = toApiError(err);
    // busboy reports a malformed body (no boundary, truncated part) as a plain Error.
    if (mapped.code === 'INTERNAL' && !(err instanceof ApiError)) {
      throw apiError('INVALID_REQUEST', 'malformed multipart body', { cause: err });
    }
    throw mapped;
  }
  return { body, imageMediaType };
}
