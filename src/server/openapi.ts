/**
 * The OpenAPI document (@fastify/swagger, served at /docs/openapi.json and rendered at /docs by
 * @fastify/swagger-ui). Routes carry their operationId, security and schemas; `finishDocument` adds
 * what a route schema cannot say: the multipart image part as `type: string, format: binary` with
 * its encoding (the validator sees a Buffer there, so the route schema leaves the type out), and the
 * response headers every client needs (rate limit, Retry-After).
 */
import type { FastifyDynamicSwaggerOptions, SwaggerTransformObject } from '@fastify/swagger';
import { ERROR_CATALOGUE } from '../errors/public.ts';
import type { ServerConfig } from './config.ts';

export const API_VERSION = '0.1.0';

/** Media types the image part of a multipart /v1/answer may declare. */
export const IMAGE_MEDIA_TYPES = ['application/dicom', 'image/png', 'image/jpeg', 'application/octet-stream'];

type Json = Record<string, unknown>;
type Operation = Json & { security?: unknown[]; responses?: Record<string, Json> };

const header = (description: string, schema: Json = { type: 'integer', minimum: 0 }) => ({
  description,
  schema,
});

const retryAfterCodes = (status: number): string =>
  Object.entries(ERROR_CATALOGUE)
    .filter(([, spec]) => 'retryAfter' in spec && spec.retryAfter && Math.floor(spec.status / 100) === status)
    .map(([code]) => code)
    .join(', ');

/** Completes the generated document (see the file comment); `rateLimited`: CHEXPO_RATE_LIMIT_MAX > 0. */
export function finishDocument(generated: Json, rateLimited: boolean): Json {
  // A copy: the generated document may share objects with the routes' own schemas.
  const document = structuredClone(generated);
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const content = (operation.requestBody as { content?: Record<string, Json> } | undefined)?.content;
      const form = content?.['multipart/form-data'];
      const image = (form?.schema as { properties?: Record<string, Json> } | undefined)?.properties?.image;
      if (form && image) {
        delete image.contentEncoding;
        Object.assign(image, { type: 'string', format: 'binary' });
        form.encoding = { image: { contentType: IMAGE_MEDIA_TYPES.join(', ') } };
      }
      const authenticated = (operation.security?.length ?? 0) > 0;
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const headers: Record<string, Json> = { ...((response.headers as Record<string, Json>) ?? {}) };
        if (authenticated && rateLimited) {
          headers['x-ratelimit-limit'] = header('Requests allowed per window for this API key.');
          headers['x-ratelimit-remaining'] = header('Requests left in the current window.');
          headers['x-ratelimit-reset'] = header('Seconds until the window resets.');
        }
        const family = Number(status[0]);
        if (family === 5 || (family === 4 && authenticated && rateLimited)) {
          headers['retry-after'] = header(
            `Seconds to wait before retrying; sent with ${retryAfterCodes(family)}.`,
          );
        }
        if (family === 4 && authenticated) {
          headers['www-authenticate'] = header('`Bearer realm="chexpo"`, sent with 401 UNAUTHORIZED.', {
            type: 'string',
          });
        }
        if (Object.keys(headers).length > 0) response.headers = headers;
      }
    }
  }
  return document;
}

export function swaggerOptions(config: ServerConfig): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'chexpo',
        version: API_VERSION,
        description:
          'Chest X-ray question answering with token confidences and hallucination risk, an OpenAI-compatible chat API and Open Inference Protocol health routes. Research use only, not a diagnostic device. Error codes: docs/errors.md.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      // Relative: the document is served by the server it describes, wherever that is reached.
      servers: [{ url: '/', description: 'the server that serves this document' }],
      security: [{ bearer: [] }],
      tags: [
        { name: 'answers', description: 'Answers and feedback (scopes answer, feedback).' },
        { name: 'openai', description: 'OpenAI-compatible routes (scope answer).' },
        { name: 'health', description: 'Open Inference Protocol (KServe v2) health and metadata; public.' },
        { name: 'admin', description: 'Model registry and trainer (scope admin).' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) =>
      finishDocument(
        (documentObject as { openapiObject: Json }).openapiObject,
        config.limits.rateLimitMax > 0,
      ) as ReturnType<SwaggerTransformObject>,
  };
}
