/**
 * Open Inference Protocol (KServe v2) health and metadata: server metadata, liveness, readiness,
 * model metadata and readiness, with the protocol's error body (`{ error: "<CODE>: <message>" }`).
 * Public (no auth, no pressure shedding). Inference itself is /v1/answer and /v1/chat/completions:
 * there is no /v2/models/{name}/infer, and the model metadata's inputs and outputs name the fields
 * of an answer as tensors.
 */
import type { FastifyInstance } from 'fastify';
import { apiError } from '../errors.ts';
import { API_VERSION } from '../openapi.ts';
import type { ModelStatus } from '../services.ts';

export interface HealthDeps {
  modelName: string;
  modelStatus: () => ModelStatus;
}

const errorResponses = {
  '4xx': { $ref: 'InferenceErrorResponse#' },
  503: { $ref: 'InferenceErrorResponse#' },
};
const inference = { errorFormat: 'inference' as const };

const tensor = {
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer' } },
  },
};

/** The answer interface as OIP tensors (one request; -1 = variable length). */
export const MODEL_INPUTS = [
  { name: 'image', datatype: 'BYTES', shape: [1] },
  { name: 'question', datatype: 'BYTES', shape: [1] },
  { name: 'task', datatype: 'BYTES', shape: [1] },
];
export const MODEL_OUTPUTS = [
  { name: 'answer', datatype: 'BYTES', shape: [1] },
  { name: 'token_logprobs', datatype: 'FP32', shape: [-1] },
  { name: 'risk', datatype: 'FP32', shape: [1] },
];

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const requireReady = (): ModelStatus => {
    const status = deps.modelStatus();
    if (!status.ready) throw apiError('MODEL_NOT_READY', status.reason);
    return status;
  };

  app.get(
    '/v2',
    {
      config: inference,
      schema: {
        operationId: 'serverMetadata',
        security: [],
        tags: ['health'],
        summary: 'Server metadata (Open Inference Protocol).',
        response: {
          200: {
            type: 'object',
            required: ['name', 'version', 'extensions'],
            properties: {
              name: { type: 'string' },
              version: { type: 'string' },
              extensions: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({ name: 'chexpo', version: API_VERSION, extensions: [] }),
  );

  app.get(
    '/v2/health/live',
    {
      config: inference,
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
      config: inference,
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
      config: inference,
      schema: {
        tags: ['health'],
        operationId: 'modelMetadata',
        security: [],
        summary: 'Model metadata (KServe v2).',
        params: nameParams,
        response: {
          200: {
            type: 'object',
            required: ['name', 'platform', 'inputs', 'outputs'],
            properties: {
              name: { type: 'string' },
              versions: { type: 'array', items: { type: 'string' } },
              platform: { type: 'string' },
              inputs: { type: 'array', items: tensor },
              outputs: { type: 'array', items: tensor },
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
        inputs: MODEL_INPUTS,
        outputs: MODEL_OUTPUTS,
        ready: status.ready,
      };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/v2/models/:name/ready',
    {
      config: inference,
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
