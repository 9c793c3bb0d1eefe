/**
 * The AnswerService and FeedbackService the routes call, over the engine and the hard-example
 * logger: the engine answers; an answer whose risk exceeds CHEXPO_RISK_THRESHOLD is queued as a hard
 * example (never awaited, never failing the request); feedback labels the row of a past request.
 */
import { randomUUID } from 'node:crypto';
import type { Engine, EngineAnswer } from '../engine/index.ts';
import type { AnswerRecord, NewAnswerRecord, NewHardExample } from '../store/index.ts';
import { apiError } from './errors.ts';
import { type HardExampleLogger, hashKeyId, hashRequestId } from './hard-example-logger.ts';
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
  const {
    key_hash: _k,
    answer_prob: _p,
    flagged: _f,
    input_warnings: _w,
    ...row
  } = answerRecord(answer, { request_id: requestId }, true, storeImages);
  return { ...row, source: 'live' };
}

/**
 * The minimal record of every answer (kept CHEXPO_ANSWER_RETENTION_HOURS for feedback): hashes of the
 * request id and the key, the model's output and confidences, the embedding (what the loop's
 * similarity expansion needs), the image hash, and the de-identified PNG only when images are stored.
 */
export function answerRecord(
  answer: EngineAnswer,
  request: { request_id: string; key_id?: string },
  flagged: boolean,
  storeImages: boolean,
): NewAnswerRecord {
  return {
    id: randomUUID(),
    created_at: Date.now(),
    request_id_hash: hashRequestId(request.request_id),
    key_hash: hashKeyId(request.key_id ?? 'anonymous'),
    model_version: answer.model.version,
    task: answer.taskType,
    question: answer.prompt,
    answer: answer.answer,
    token_probs: answer.tokens.map((t) => t.prob),
    min_prob: answer.confidence.min_prob,
    mean_logprob: answer.confidence.mean_logprob,
    answer_prob: answer.confidence.answer_prob,
    risk: answer.risk,
    flagged,
    embedding: answer.embedding,
    image_sha256: answer.imageSha256,
    input_warnings: answer.inputWarnings.join(','),
    image: storeImages && answer.imagePng ? answer.imagePng : null,
  };
}

/** A labelled hard example made from an answer record when feedback arrives for an unflagged answer. */
export function hardExampleFromRecord(
  record: AnswerRecord & { image: Uint8Array | null },
  label: string,
): NewHardExample {
  const { key_hash: _k, answer_prob: _p, flagged: _f, input_warnings: _w, ...row } = record;
  return { ...row, id: randomUUID(), created_at: Date.now(), source: 'live', label, status: 'labelled' };
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
    const storeImages = this.options.storeImages ?? false;
    const flagged =
      answer.risk > riskThreshold &&
      logger !== undefined &&
      logger.enqueue(hardExampleRow(answer, request.request_id, storeImages));
    logger?.recordAnswer(answerRecord(answer, request, flagged, storeImages));
    return {
      answer: answer.answer,
      answer_span: answer.answerSpan,
      ...(request.return_tokens ? { tokens: answer.tokens } : {}),
      confidence: answer.confidence,
      risk: answer.risk,
      flagged,
      model: answer.model,
      timings_ms: answer.timings_ms,
      image: answer.image,
      input_warnings: answer.inputWarnings,
    };
  }
}

export class StoreFeedbackService implements FeedbackService {
  constructor(private readonly logger: HardExampleLogger) {}

  /**
   * Labels the hard example of this request; for an answer that was not flagged, its answer record
   * (kept for the retention window) becomes a labelled hard example. A correction of such a confident
   * answer is marked `on_policy_pair` in the label: the loop's live mining turns it into an on-policy
   * preference pair (chosen = the correction, rejected = the model's answer) when its image is stored.
   */
  async record(feedback: FeedbackRequest, principal: { keyId: string }): Promise<FeedbackResponse> {
    const base = {
      verdict: feedback.verdict,
      ...(feedback.correct_answer ? { correct_answer: feedback.correct_answer } : {}),
      ...(feedback.comment ? { comment: feedback.comment } : {}),
      by: principal.keyId,
      at: new Date().toISOString(),
    };
    try {
      if ((await this.logger.setLabel(feedback.request_id, JSON.stringify(base))) > 0) {
        return { request_id: feedback.request_id, status: 'recorded' };
      }
      const record = await this.logger.findAnswer(feedback.request_id);
      if (record) {
        const correction = feedback.verdict === 'incorrect' && feedback.correct_answer !== undefined;
        const label = JSON.stringify({
          ...base,
          origin: 'answer_record',
          confident: !record.flagged,
          on_policy_pair: correction && !record.flagged,
        });
        await this.logger.addLabelledHardExample(hardExampleFromRecord(record, label));
        return { request_id: feedback.request_id, status: 'recorded' };
      }
    } catch (cause) {
      throw apiError('FEEDBACK_UNAVAILABLE', 'the hard-example store is unreachable', { cause });
    }
    const hours = this.logger.answerRetentionMs / 3_600_000;
    throw apiError(
      'NOT_FOUND',
      hours > 0
        ? `no answer with this request_id in the last ${hours} h (CHEXPO_ANSWER_RETENTION_HOURS)`
        : 'no flagged answer with this request_id (answer records are off: CHEXPO_ANSWER_RETENTION_HOURS=0)',
    );
  }
}
