/** Shared fixtures of the server tests: a config from env strings, API keys, a fake engine. */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.ts';
import { loadConfig, type ServerConfig } from '../../src/server/config.ts';
import { createMetrics, type Metrics } from '../../src/server/metrics.ts';
import type {
  AnswerRequest,
  AnswerResult,
  AnswerService,
  FeedbackService,
} from '../../src/server/services.ts';

export const ANSWER_KEY = 'answer-key-0123456789';
export const FEEDBACK_KEY = 'feedback-key-0123456789';
export const ADMIN_KEY = 'admin-key-0123456789ab';
/** A clinician's key for the console's review queue (scope review: labels as `reviewer`). */
export const REVIEW_KEY = 'review-key-0123456789ab';
/** A calling system that asks and gives feedback on its own answers (request ids are per key). */
export const CLINIC_KEY = 'clinic-key-0123456789ab';

/** The id the server gives a key (first 12 hex digits of its SHA-256), as logs and labels show it. */
export const keyIdOf = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 12);

export function testConfig(env: Record<string, string> = {}): ServerConfig {
  return loadConfig({
    CHEXPO_API_KEYS: `${ANSWER_KEY}:answer;${FEEDBACK_KEY}:feedback;${ADMIN_KEY}:admin;${REVIEW_KEY}:review;${CLINIC_KEY}:answer,feedback`,
    CHEXPO_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  }).config;
}

/** The decoded-image block of a canned answer (a 512² 8-bit grey PNG, no DICOM tags). */
export const TEST_IMAGE_INFO = {
  format: 'png',
  width: 512,
  height: 512,
  bits_stored: 8,
  photometric: 'GRAY',
  modality: null,
  view: null,
  body_part: null,
  transfer_syntax: null,
  frame: 1,
  frames: 1,
} as const;

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

/** POST /v1/feedback with `key`. */
export const postFeedback = (app: FastifyInstance, key: string, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/v1/feedback', headers: bearer(key), payload });

/** A schema-valid answer, as the engine would return it. */
export function cannedResult(request: AnswerRequest): AnswerResult {
  return {
    answer: request.task === 'vqa' ? 'yes' : 'There is a small left pleural effusion.',
    answer_span: [{ kind: 'yes_no', text: 'yes', confidence: 0.91, start: 0, end: 3 }],
    tokens: [
      {
        token: 'yes',
        prob: 0.91,
        logprob: Math.log(0.91),
        entropy: 0.3,
        top_logprobs: [{ token: 'no', logprob: -2.5 }],
      },
    ],
    confidence: { min_prob: 0.91, mean_logprob: Math.log(0.91), answer_prob: 0.91 },
    risk: 0.72,
    flagged: true,
    model: { name: 'chexpo-tiny', version: 'v-test' },
    timings_ms: { queue: 0, preprocess: 1, encode: 2, generate: 3, total: 6 },
    image: TEST_IMAGE_INFO,
    input_warnings: [],
    finish_reason: 'stop',
    usage: { prompt_tokens: 20, completion_tokens: 2, total_tokens: 22 },
  };
}

/** A fake engine: records what it was asked, answers cannedResult, or behaves as `behaviour` says. */
export class FakeAnswerService implements AnswerService {
  readonly calls: AnswerRequest[] = [];
  admit = true;
  behaviour: 'answer' | 'hang' | 'hang-until-aborted' | Error = 'answer';

  canAdmit(): boolean {
    return this.admit;
  }

  async answer(request: AnswerRequest, signal: AbortSignal): Promise<AnswerResult> {
    this.calls.push(request);
    const behaviour = this.behaviour;
    if (behaviour instanceof Error) throw behaviour;
    if (behaviour === 'hang') return new Promise<AnswerResult>(() => {});
    if (behaviour === 'hang-until-aborted') {
      return new Promise<AnswerResult>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted by signal')), { once: true });
      });
    }
    return cannedResult(request);
  }
}

export class FakeFeedbackService implements FeedbackService {
  readonly known = new Set<string>(['req-1']);
  readonly recorded: unknown[] = [];
  async record(feedback: Parameters<FeedbackService['record']>[0]) {
    if (!this.known.has(feedback.request_id)) {
      throw Object.assign(new Error(`no answer with request_id ${feedback.request_id}`), {
        code: 'NOT_FOUND',
      });
    }
    this.recorded.push(feedback);
    return { request_id: feedback.request_id, status: 'recorded' as const };
  }
}

export interface TestApp {
  app: FastifyInstance;
  metrics: Metrics;
  service: FakeAnswerService;
  feedback: FakeFeedbackService;
}

export async function testApp(
  options: { env?: Record<string, string>; withService?: boolean } = {},
): Promise<TestApp> {
  const metrics = createMetrics({ defaultMetrics: false });
  const service = new FakeAnswerService();
  const feedback = new FakeFeedbackService();
  const app = await buildApp({
    config: testConfig(options.env),
    metrics,
    answerService: (options.withService ?? true) ? service : undefined,
    feedbackService: feedback,
  });
  return { app, metrics, service, feedback };
}

/** A multipart/form-data body built by hand (no client library), with one optional file part. */
export function multipartBody(
  fields: Record<string, string | string[]>,
  file?: { name: string; filename: string; type: string; data: Buffer },
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----chexpo-test-boundary';
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      chunks.push(
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v}\r\n`),
      );
    }
  }
  if (file) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\n` +
          `Content-Type: ${file.type}\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** Bytes that start like a PNG; the fake engine does not decode them. */
export const FAKE_PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(56, 7),
]);
