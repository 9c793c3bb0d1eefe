/**
 * The OpenAI-compatible routes: POST /v1/chat/completions and GET /v1/models, so the official
 * `openai` clients and OpenAI-style gateways call chexpo as they call any chat model. A chat request
 * becomes the same AnswerRequest /v1/answer builds (one image, the user's text as the question) and
 * runs through the same admission, deadline, AnswerService, hard-example logging and metrics
 * (answer.ts); only the request parsing and the response shape differ. chexpo's own answer fields
 * (risk, spans, confidences, model version) ride in one extension field, `chexpo`.
 *
 * Streaming: chunks are written once the whole answer exists. The risk score and the flag are
 * properties of the whole answer, so a client never shows streamed text before its risk is known;
 * the answers are short (a report is ~200 tokens), so the stream costs no perceptible latency.
 */
import { randomUUID } from 'node:crypto';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { tokenPiece, tokenPieces } from '../../data/tokenizer/index.ts';
import { apiError } from '../errors.ts';
import { loadSchema } from '../schemas.ts';
import type { AnswerRequest, AnswerResult, AnswerTask, TokenConfidence } from '../services.ts';
import { DISCLAIMER } from '../services.ts';
import { type AnswerDeps, admission, answerUnderDeadline, imageBytes } from './answer.ts';

export interface OpenAiDeps extends AnswerDeps {
  modelName: string;
}

type ContentPart =
  | { type: 'text'; text?: string }
  | { type: 'image_url'; image_url?: { url: string; detail?: string } };

interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string | ContentPart[];
  name?: string;
}

/** The validated body (schemas/chat-completion-request.json). */
export interface ChatCompletionBody {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  n?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  stop?: string | string[] | null;
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  user?: string;
  chexpo?: { task?: AnswerTask; options?: string[]; request_id?: string };
}

const DATA_URL = /^data:([^;,]{1,100})?(?:;[^;,]{1,100})*;base64,/;

const unsupported = (param: string, why: string) =>
  apiError('UNSUPPORTED_PARAMETER', `${param}: ${why}`, { details: [{ field: `/${param}`, message: why }] });

/** The AnswerRequest of a chat request, or a coded 4xx naming the field at fault. */
export function chatToAnswerRequest(
  body: ChatCompletionBody,
  modelName: string,
  maxImageBytes: number,
  /** The asking key's id: the answer's request id lives in its namespace, as on /v1/answer. */
  keyId = 'anonymous',
): AnswerRequest {
  if (body.model !== modelName) throw apiError('NOT_FOUND', `no model named '${body.model}'`);
  if ((body.n ?? 1) !== 1) throw unsupported('n', 'only n = 1 (greedy decoding has one answer)');
  const stops = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();
  if (stops.some((s) => s.length > 0))
    throw unsupported('stop', 'stop sequences are not supported; the answer ends at its own end');
  for (const penalty of ['presence_penalty', 'frequency_penalty'] as const) {
    if ((body[penalty] ?? 0) !== 0) throw unsupported(penalty, 'only 0');
  }
  if ((body.top_logprobs ?? 0) > 0 && !body.logprobs) {
    throw apiError('INVALID_REQUEST', '/top_logprobs needs logprobs: true', {
      details: [{ field: '/top_logprobs', message: 'needs logprobs: true' }],
    });
  }
  const assistant = body.messages.findIndex((m) => m.role === 'assistant');
  if (assistant >= 0) {
    throw unsupported(
      `messages/${assistant}`,
      'chexpo answers one question about one image: send a single user message, no earlier turns',
    );
  }
  const users = body.messages.flatMap((m, i) => (m.role === 'user' ? [i] : []));
  if (users.length !== 1) {
    throw apiError('INVALID_REQUEST', `exactly one user message is needed (got ${users.length})`, {
      details: [{ field: '/messages', message: 'needs exactly one user message' }],
    });
  }
  const at = users[0];
  const content = body.messages[at].content;
  const parts: ContentPart[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  const texts: string[] = [];
  const images: { url: string; field: string }[] = [];
  parts.forEach((part, i) => {
    const field = `/messages/${at}/content/${i}`;
    if (part.type === 'text') {
      if (typeof part.text !== 'string')
        throw apiError('INVALID_REQUEST', `${field}/text is required`, {
          details: [{ field: `${field}/text`, message: 'is required' }],
        });
      texts.push(part.text);
    } else {
      if (!part.image_url)
        throw apiError('INVALID_REQUEST', `${field}/image_url is required`, {
          details: [{ field: `${field}/image_url`, message: 'is required' }],
        });
      images.push({ url: part.image_url.url, field: `${field}/image_url/url` });
    }
  });
  if (images.length !== 1) {
    throw apiError('IMAGE_REQUIRED', `the user message has ${images.length} images`, {
      details: [{ field: `/messages/${at}/content`, message: 'needs exactly one image_url part' }],
    });
  }
  const [{ url, field }] = images;
  const dataUrl = DATA_URL.exec(url);
  if (!dataUrl) {
    throw apiError('IMAGE_URL_UNSUPPORTED', undefined, {
      details: [{ field, message: 'is not a base64 data: URL' }],
    });
  }
  const question = texts
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .join(' ');
  const task = body.chexpo?.task ?? (question ? 'vqa' : 'report');
  if (task === 'vqa' && !question) throw apiError('QUESTION_REQUIRED');
  return {
    image: imageBytes(url, maxImageBytes),
    image_media_type: dataUrl[1],
    task,
    ...(task === 'vqa' ? { question } : {}),
    ...(body.chexpo?.options ? { options: body.chexpo.options } : {}),
    max_tokens: body.max_completion_tokens ?? body.max_tokens,
    top_logprobs: body.logprobs ? (body.top_logprobs ?? 0) : 0,
    return_tokens: true,
    request_id: body.chexpo?.request_id ?? randomUUID(),
    key_id: keyId,
  };
}

interface OpenAiTopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface OpenAiTokenLogprob extends OpenAiTopLogprob {
  top_logprobs: OpenAiTopLogprob[];
}

const utf8 = (text: string): number[] => [...Buffer.from(text, 'utf8')];

/**
 * OpenAI's logprobs.content: one entry per token whose `token` is its piece of the answer text
 * (leading space included), so the entries concatenate to message.content.
 */
export function openAiLogprobs(tokens: readonly TokenConfidence[]): OpenAiTokenLogprob[] {
  const pieces = tokenPieces(tokens.map((t) => t.token));
  return tokens.map((t, i) => {
    const previous = tokens[i - 1]?.token;
    return {
      token: pieces[i],
      logprob: t.logprob,
      bytes: utf8(pieces[i]),
      top_logprobs: (t.top_logprobs ?? []).map((alt) => {
        const piece = alt.token === t.token ? pieces[i] : tokenPiece(previous, alt.token);
        return { token: piece, logprob: alt.logprob, bytes: utf8(piece) };
      }),
    };
  });
}

function chexpoExtension(result: AnswerResult, request: AnswerRequest) {
  return {
    request_id: request.request_id,
    task: request.task,
    answer_span: result.answer_span,
    confidence: result.confidence,
    risk: result.risk,
    flagged: result.flagged,
    model: result.model,
    timings_ms: result.timings_ms,
    image: result.image,
    input_warnings: result.input_warnings,
    disclaimer: DISCLAIMER,
  };
}

export function chatCompletion(result: AnswerResult, request: AnswerRequest, logprobs: boolean) {
  return {
    id: `chatcmpl-${request.request_id}`,
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: result.model.name,
    system_fingerprint: result.model.version,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: result.answer, refusal: null },
        logprobs: logprobs ? { content: openAiLogprobs(result.tokens ?? []), refusal: null } : null,
        finish_reason: result.finish_reason,
      },
    ],
    usage: result.usage,
    chexpo: chexpoExtension(result, request),
  };
}

/** The server-sent events of a streamed completion: role, one chunk per token, finish, usage, [DONE]. */
export function chatCompletionEvents(
  result: AnswerResult,
  request: AnswerRequest,
  options: { logprobs: boolean; includeUsage: boolean },
): string {
  const whole = chatCompletion(result, request, true);
  const head = {
    id: whole.id,
    object: 'chat.completion.chunk',
    created: whole.created,
    model: whole.model,
    system_fingerprint: whole.system_fingerprint,
  };
  const usage = options.includeUsage ? { usage: null } : {};
  const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ ...head, choices: [{ index: 0, ...choice }], ...usage, ...extra })}\n\n`;
  const entries = whole.choices[0].logprobs?.content ?? [];
  const events = [chunk({ delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })];
  for (const entry of entries) {
    events.push(
      chunk({
        delta: { content: entry.token },
        logprobs: options.logprobs ? { content: [entry], refusal: null } : null,
        finish_reason: null,
      }),
    );
  }
  events.push(
    chunk({ delta: {}, logprobs: null, finish_reason: result.finish_reason }, { chexpo: whole.chexpo }),
  );
  if (options.includeUsage)
    events.push(`data: ${JSON.stringify({ ...head, choices: [], usage: result.usage })}\n\n`);
  events.push('data: [DONE]\n\n');
  return events.join('');
}

/**
 * The body validator of /v1/chat/completions: the app's ajv coerces types (multipart fields arrive
 * as strings), and coercion inside `content`'s anyOf (string | parts) rewrites a one-part array
 * before the array branch sees it. This body is JSON only, so it is checked exactly, uncoerced.
 */
function chatBodyValidator() {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true });
  return ajv.compile(loadSchema('chat-completion-request.json'));
}

export function openAiRoutes(app: FastifyInstance, deps: OpenAiDeps): void {
  const validateChatBody = chatBodyValidator();
  const errors = { '4xx': { $ref: 'ErrorResponse#' }, '5xx': { $ref: 'ErrorResponse#' } };

  app.post<{ Body: ChatCompletionBody }>(
    '/v1/chat/completions',
    {
      config: { scope: 'answer', errorFormat: 'openai' },
      schema: {
        operationId: 'createChatCompletion',
        tags: ['openai'],
        summary: 'OpenAI-compatible chat completion: one image (data: URL) and a question, or a report.',
        security: [{ bearer: [] }],
        body: { $ref: 'ChatCompletionRequest#' },
        response: {
          200: {
            description:
              'The completion; with `stream: true` a `text/event-stream` of ChatCompletionChunk events.',
            content: {
              'application/json': { schema: { $ref: 'ChatCompletion#' } },
              'text/event-stream': { schema: { $ref: 'ChatCompletionChunk#' } },
            },
          },
          ...errors,
        },
      },
      preParsing: admission(deps),
      validatorCompiler: () => validateChatBody,
    },
    async (request, reply) => {
      const body = request.body;
      const answerRequest = chatToAnswerRequest(
        body,
        deps.modelName,
        deps.maxImageBytes,
        request.principal?.keyId ?? 'anonymous',
      );
      const result = await answerUnderDeadline(deps, request, reply, answerRequest);
      if (!body.stream) return chatCompletion(result, answerRequest, body.logprobs ?? false);
      reply.header('cache-control', 'no-cache').type('text/event-stream; charset=utf-8');
      return chatCompletionEvents(result, answerRequest, {
        logprobs: body.logprobs ?? false,
        includeUsage: body.stream_options?.include_usage ?? false,
      });
    },
  );

  app.get(
    '/v1/models',
    {
      config: { scope: 'answer', errorFormat: 'openai' },
      schema: {
        operationId: 'listModels',
        tags: ['openai'],
        summary: 'OpenAI-compatible model list: the served model.',
        security: [{ bearer: [] }],
        response: { 200: { $ref: 'ModelList#' }, ...errors },
      },
    },
    async () => ({
      object: 'list' as const,
      data: [
        {
          id: deps.modelName,
          object: 'model' as const,
          // The model's versions change under the name (hot swaps): no one creation time to give.
          created: 0,
          owned_by: 'chexpo',
        },
      ],
    }),
  );
}
