/**
 * The AnswerService and FeedbackService the routes call, over the engine and the hard-example
 * logger: the engine answers; an answer whose risk exceeds CHEXPO_RISK_THRESHOLD is queued as a hard
 * example (never awaited, never failing the request); feedback labels the row of a past request.
 */
import { randomUUID } from 'node:crypto';
import type { Engine, EngineAnswer } from '../engine/index.ts';
import type { NewHardExample } from '../store/index.ts';
import { apiError } from './errors.ts';
import { type HardExampleLogger, hashRequestId } from './hard-example-logger.ts';
import type {
  AnswerRequest,
  AnswerResult,
  AnswerService,
  FeedbackRequest,
  FeedbackResponse,
  FeedbackService,
} from './services.ts';

export interface EngineAnswerServiceOptions {
  engine: Engine;
  /** Absent: nothing is logged and no answer is flagged. */
  logger?: HardExampleLogger;
  riskThreshold: number;
  /** Store the de-identified PNG with each hard example (the engine must keep it: keepImagePng). */
  storeImages?: boolean;
}

/** The hard-example row of a flagged answer: no DICOM tag, no raw request id, no original file. */
export function hardExampleRow(
  answer: EngineAnswer,
  requestId: string,
  storeImages: boolean,
): NewHardExample {
  return {
    id: randomUUID(),
    created_at: Date.now(),
    model_version: answer.model.version,
    task: answer.taskType,
    question: answer.prompt,
    answer: answer.answer,
    token_probs: answer.tokens.map((t) => t.prob),
    min_prob: answer.confidence.min_prob,
    mean_logprob: answer.confidence.mean_logprob,
    risk: answer.risk,
    embedding: answer.embedding,
    image_sha256: answer.imageSha256,
    source: 'live',
    request_id_hash: hashRequestId(requestId),
    image: storeImages && answer.imagePng ? answer.imagePng : null,
  };
}

export class EngineAnswerService implements AnswerService {
  constructor(private readonly options: EngineAnswerServiceOptions) {}

  /**
   * Asked before the body is read. Not ready (loading, no model, shutting down) throws
   * MODEL_NOT_READY rather than answering false, which the route would report as QUEUE_FULL.
   */
  canAdmit(): boolean {
    const status = this.options.engine.status();
    if (!status.ready) throw apiError('MODEL_NOT_READY', status.reason);
    return this.options.engine.canAdmit();
  }

  async answer(request: AnswerRequest, signal: AbortSignal): Promise<AnswerResult> {
    const { engine, logger, riskThreshold } = this.options;
    let answer: EngineAnswer;
    try {
      answer = await engine.answer(
        {
          image: request.image,
          task: request.task,
          question: request.question,
          options: request.options,
          maxTokens: request.max_tokens,
          topLogprobs: request.top_logprobs,
        },
        signal,
      );
    } catch (error) {
      if ((error as { code?: unknown })?.code === 'ENGINE_CLOSED')
        throw apiError('MODEL_NOT_READY', 'shutting down');
      throw error;
    }
    const flagged =
      answer.risk > riskThreshold &&
      logger !== undefined &&
      logger.enqueue(hardExampleRow(answer, request.request_id, this.options.storeImages ?? false));
    return {
      answer: answer.answer,
      answer_span: answer.answerSpan,
      ...(request.return_tokens ? { tokens: answer.tokens } : {}),
      confidence: answer.confidence,
      risk: answer.risk,
      flagged,
      model: answer.model,
      timings_ms: answer.timings_ms,
      finish_reason: answer.finishReason,
      usage: {
        prompt_tokens: answer.promptTokens,
        completion_tokens: answer.completionTokens,
        total_tokens: answer.promptTokens + answer.completionTokens,
      },
    };
  }
}

export class StoreFeedbackService implements FeedbackService {
  constructor(private readonly logger: HardExampleLogger) {}

  async record(feedback: FeedbackRequest, principal: { keyId: string }): Promise<FeedbackResponse> {
    const label = JSON.stringify({
      verdict: feedback.verdict,
      ...(feedback.correct_answer ? { correct_answer: feedback.correct_answer } : {}),
      ...(feedback.comment ? { comment: feedback.comment } : {}),
      by: principal.keyId,
      at: new Date().toISOString(),
    });
    let updated: number;
    try {
      updated = await this.logger.setLabel(feedback.request_id, label);
    } catch (cause) {
      throw apiError('FEEDBACK_UNAVAILABLE', 'the hard-example store is unreachable', { cause });
    }
    if (updated === 0) throw apiError('NOT_FOUND', 'no flagged answer with this request_id');
    return { request_id: feedback.request_id, status: 'recorded' };
  }
}
