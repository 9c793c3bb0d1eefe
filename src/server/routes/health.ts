/** KServe v2 health and model metadata; public (no auth, no pressure shedding). */
import type { FastifyInstance } from 'fastify';
import { apiError } from '../errors.ts';
import type { ModelStatus } from '../services.ts';

export interface HealthDeps {
  modelName: string;
  modelStatus: () => ModelStatus;
}

const errorResponses = { 404: { $ref: 'ErrorResponse#' }, 503: { $ref: 'ErrorResponse#' } };

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const requireReady = (): ModelStatus => {
    const status = deps.modelStatus();
    if (!status.ready) throw apiError('MODEL_NOT_READY', status.reason);
    return status;
  };

  app.get(
    '/v2/health/live',
    {
      schema: {
        tags: ['health'],
        operationId: 'serverLive',
        security: [],
        summary: 'Liveness: the process answers HTTP.',
        response: { 200: { type: 'object', properties: { live: { type: 'boolean' } } } },
      },
    },
    async () => ({ live: true }),
  );

  app.get(
    '/v2/health/ready',
    {
      schema: {
        tags: ['health'],
        operationId: 'serverReady',
        security: [],
        summary: 'Readiness: a model version is loaded and warmed up (503 MODEL_NOT_READY otherwise).',
        response: { 200: { type: 'object', properties: { ready: { type: 'boolean' } } }, ...errorResponses },
      },
    },
    async () => ({ ready: requireReady().ready }),
  );

  const nameParams = {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', maxLength: 128 } },
  };
  const checkName = (name: string): void => {
    if (name !== deps.modelName) throw apiError('NOT_FOUND', `no model named '${name}'`);
  };

  app.get<{ Params: { name: string } }>(
    '/v2/models/:name',
    {
      schema: {
        tags: ['health'],
        operationId: 'modelMetadata',
        security: [],
        summary: 'Model metadata (KServe v2).',
        params: nameParams,
        response: {
          200: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              versions: { type: 'array', items: { type: 'string' } },
              platform: { type: 'string' },
              ready: { type: 'boolean' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      checkName(request.params.name);
      const status = deps.modelStatus();
      return {
        name: deps.modelName,
        versions: status.model ? [status.model.version] : [],
        platform: 'onnxruntime',
        ready: status.ready,
      };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/v2/models/:name/ready',
    {
      schema: {
        tags: ['health'],
        operationId: 'modelReady',
        security: [],
        summary: 'Model readiness (KServe v2).',
        params: nameParams,
        response: {
          200: { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      checkName(request.params.name);
      return { name: deps.modelName, ready: requireReady().ready };
    },
  );
}
