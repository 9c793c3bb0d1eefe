/**
 * POST /v1/answer, as JSON (base64 image) or multipart/form-data (an `image` file part). The handler
 * validates what the schema cannot express, calls the AnswerService under a deadline, and replies.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { raceSignal, requestDeadline } from '../deadline.ts';
import { apiError } from '../errors.ts';
import { type Metrics, observeAnswer } from '../metrics.ts';
import { collectMultipart } from '../multipart.ts';
import { multipartAnswerSchema } from '../schemas.ts';
import {
  type AnswerRequest,
  type AnswerResponse,
  type AnswerResult,
  type AnswerService,
  type AnswerTask,
  DISCLAIMER,
} from '../services.ts';

export interface AnswerDeps {
  answerService?: AnswerService;
  metrics: Metrics;
  maxImageBytes: number;
  /** Bounds a multipart body as a whole (JSON bodies are bounded by fastify's bodyLimit). */
  bodyLimitBytes: number;
}

/** The validated body: JSON sends `image` as base64 text, multipart as the file's bytes. */
interface AnswerBody {
  image: string | Buffer;
  task: AnswerTask;
  question?: string;
  options?: string[];
  max_tokens?: number;
  top_logprobs: number;
  return_tokens: boolean;
  request_id?: string;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The image bytes, with size checked before decoding base64 so an oversized string costs nothing. */
export function imageBytes(image: string | Buffer, maxImageBytes: number): Buffer {
  if (typeof image !== 'string') {
    if (image.length === 0) throw apiError('IMAGE_EMPTY');
    if (image.length > maxImageBytes) throw apiError('IMAGE_TOO_LARGE', `limit ${maxImageBytes} bytes`);
    return image;
  }
  const text = image.replace(/^data:[^,]{0,100};base64,/, '');
  if (text.length === 0) throw apiError('IMAGE_EMPTY');
  const decodedLength = Math.floor((text.length * 3) / 4);
  if (decodedLength - 2 > maxImageBytes) throw apiError('IMAGE_TOO_LARGE', `limit ${maxImageBytes} bytes`);
  if (!BASE64.test(text)) throw apiError('IMAGE_UNDECODABLE', 'the image field is not valid base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0) throw apiError('IMAGE_EMPTY');
  if (bytes.length > maxImageBytes) throw apiError('IMAGE_TOO_LARGE', `limit ${maxImageBytes} bytes`);
  return bytes;
}

const ACCEPTED_MEDIA_TYPES = new Set(['application/json', 'multipart/form-data']);
/** Content type of each multipart request's file part, kept beside the request while it lives. */
const imageMediaTypes = new WeakMap<object, string>();

export function answerRoute(app: FastifyInstance, deps: AnswerDeps): void {
  const errorResponse = { $ref: 'ErrorResponse#' };
  app.post<{ Body: AnswerBody }>(
    '/v1/answer',
    {
      config: { scope: 'answer' },
      schema: {
        operationId: 'createAnswer',
        tags: ['answers'],
        summary:
          'Answer a question about a chest radiograph, or write a report, with token confidences and risk.',
        security: [{ bearer: [] }],
        body: {
          content: {
            'application/json': { schema: { $ref: 'AnswerRequest#' } },
            'multipart/form-data': { schema: multipartAnswerSchema() },
          },
        },
        response: {
          200: { $ref: 'AnswerResponse#' },
          422: {
            description:
              'The image cannot be answered about: the input gate refused it (NOT_A_RADIOGRAPH, NOT_A_CHEST_IMAGE, ' +
              'IMAGE_TOO_SMALL) or the DICOM object holds no image (DICOM_NOT_IMAGE); see docs/errors.md.',
            ...errorResponse,
          },
          '4xx': errorResponse,
          '5xx': errorResponse,
        },
      },
      preParsing: admission(deps),
      preValidation: async (request) => {
        if (!request.mediaType || !ACCEPTED_MEDIA_TYPES.has(request.mediaType)) {
          throw apiError('UNSUPPORTED_MEDIA_TYPE');
        }
        if (request.mediaType === 'multipart/form-data') {
          const { body, imageMediaType } = await collectMultipart(request, {
            maxImageBytes: deps.maxImageBytes,
            bodyLimitBytes: deps.bodyLimitBytes,
          });
          request.body = body as unknown as AnswerBody;
          if (imageMediaType) imageMediaTypes.set(request.raw, imageMediaType);
        }
      },
    },
    async (request, reply): Promise<AnswerResponse> => {
      const body = request.body;
      if (body.task === 'vqa' && !body.question?.trim()) throw apiError('QUESTION_REQUIRED');
      const answerRequest: AnswerRequest = {
        image: imageBytes(body.image, deps.maxImageBytes),
        image_media_type: imageMediaTypes.get(request.raw),
        task: body.task,
        question: body.question,
        options: body.options,
        max_tokens: body.max_tokens,
        top_logprobs: body.top_logprobs,
        return_tokens: body.return_tokens,
        request_id: body.request_id ?? randomUUID(),
        key_id: request.principal?.keyId ?? 'anonymous',
      };
      const result = await answerUnderDeadline(deps, request, reply, answerRequest);
      const { tokens, ...rest } = result;
      return {
        ...rest,
        ...(body.return_tokens && tokens ? { tokens } : {}),
        request_id: answerRequest.request_id,
        disclaimer: DISCLAIMER,
      };
    },
  );
}

/** Admission before the body is read: a full queue or a missing model costs no upload. */
export function admission(deps: Pick<AnswerDeps, 'answerService'>): () => Promise<void> {
  return async () => {
    if (!deps.answerService) throw apiError('MODEL_NOT_READY');
    if (deps.answerService.canAdmit && !deps.answerService.canAdmit()) throw apiError('QUEUE_FULL');
  };
}

/**
 * One answer from the AnswerService under the request's deadline (cancelled when the client hangs
 * up), recorded in the answer metrics: what every answering route (/v1/answer, /v1/chat/completions)
 * runs once it has validated its body.
 */
export async function answerUnderDeadline(
  deps: AnswerDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  answerRequest: AnswerRequest,
): Promise<AnswerResult> {
  const service = deps.answerService;
  if (!service) throw apiError('MODEL_NOT_READY');
  const deadline = requestDeadline(request, reply);
  try {
    const result = await raceSignal(service.answer(answerRequest, deadline.signal), deadline.signal);
    observeAnswer(deps.metrics, result, answerRequest.task);
    return result;
  } finally {
    deadline.dispose();
  }
}
