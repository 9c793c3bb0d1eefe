/**
 * The AnswerService and FeedbackService the routes call, over the engine and the hard-example
 * logger: the engine answers; an answer whose risk exceeds CHEXPO_RISK_THRESHOLD is journaled and
 * queued as a hard example (never failing the request), every answer leaves a minimal record for the
 * retention window; feedback labels the row of a past request asked by the same key.
 */
import { randomUUID } from 'node:crypto';
import type { Engine, EngineAnswer } from '../engine/index.ts';
import {
  type AnswerRecord,
  appendLabelEntry,
  type LabelEntry,
  MAX_LABEL_ENTRIES,
  type NewAnswerRecord,
  type NewHardExample,
} from '../store/index.ts';
import { apiError } from './errors.ts';
import { type HardExampleLogger, hashKeyId, hashRequestId } from './hard-example-logger.ts';
import type {
  AnswerRequest,
  AnswerResult,
  AnswerService,
  FeedbackPrincipal,
  FeedbackRequest,
  FeedbackResponse,
  FeedbackService,
  ReviewFeedback,
  ReviewResponse,
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
  requestIdHash: string,
  storeImages: boolean,
): NewHardExample {
  const {
    key_hash: _k,
    answer_prob: _p,
    flagged: _f,
    input_warnings: _w,
    ...row
  } = recordOf(answer, requestIdHash, '', true, storeImages);
  return { ...row, source: 'live' };
}

/**
 * The minimal record of every answer (kept CHEXPO_ANSWER_RETENTION_HOURS for feedback): hashes of the
 * request id (in the asking key's namespace, as in hard_examples) and of the key, the model's output
 * and confidences, the embedding (what the loop's similarity expansion needs), the image hash, and
 * the de-identified PNG only when images are stored.
 */
export function answerRecord(
  answer: EngineAnswer,
  request: { request_id: string; key_id: string },
  flagged: boolean,
  storeImages: boolean,
): NewAnswerRecord {
  return recordOf(
    answer,
    hashRequestId(request.key_id, request.request_id),
    hashKeyId(request.key_id),
    flagged,
    storeImages,
  );
}

function recordOf(
  answer: EngineAnswer,
  requestIdHash: string,
  keyHash: string,
  flagged: boolean,
  storeImages: boolean,
): NewAnswerRecord {
  return {
    id: randomUUID(),
    created_at: Date.now(),
    request_id_hash: requestIdHash,
    key_hash: keyHash,
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
  private readonly options: EngineAnswerServiceOptions;
  constructor(options: EngineAnswerServiceOptions) {
    this.options = options;
  }

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
    const record = answerRecord(answer, request, false, storeImages);
    // Journaled durably before the answer returns: a flagged answer survives a crash.
    const flagged =
      answer.risk > riskThreshold &&
      logger !== undefined &&
      (await logger.record(hardExampleRow(answer, record.request_id_hash, storeImages)));
    logger?.recordAnswer({ ...record, flagged });
    return {
      answer: answer.answer,
      answer_span: answer.answerSpan,
      tokens: answer.tokens,
      confidence: answer.confidence,
      risk: answer.risk,
      flagged,
      model: answer.model,
      timings_ms: answer.timings_ms,
      image: answer.image,
      input_warnings: answer.inputWarnings,
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
  private readonly logger: HardExampleLogger;
  constructor(logger: HardExampleLogger) {
    this.logger = logger;
  }

  /**
   * Appends the verdict to the label history of this request's hard example, in the namespace of
   * the key that asked (the caller's own, or the key an admin names). For an answer that was not
   * flagged, its answer record (kept for the retention window, asked by the same key) becomes a
   * labelled hard example. A correction of such a confident answer is marked `on_policy_pair` in the
   * entry: the loop's live mining turns it into an on-policy preference pair (chosen = the
   * correction, rejected = the model's answer) when its image is stored.
   */
  async record(feedback: FeedbackRequest, principal: FeedbackPrincipal): Promise<FeedbackResponse> {
    const { owner } = principal;
    await this.label(hashRequestId(owner, feedback.request_id), hashKeyId(owner), feedback, {
      by: principal.keyId,
      as: owner === principal.keyId ? 'owner' : 'admin',
    });
    return { request_id: feedback.request_id, status: 'recorded' };
  }

  /**
   * A reviewer's verdict from the review console: the same label entry as `record`, authored by the
   * reviewer's key with the standing `reviewer`, on the answer the queue showed (found by the
   * request-id hash the store keeps, whichever key asked).
   */
  async review(feedback: ReviewFeedback, reviewer: { keyId: string }): Promise<ReviewResponse> {
    await this.label(feedback.item, null, feedback, { by: reviewer.keyId, as: 'reviewer' });
    return { item: feedback.item, status: 'recorded' };
  }

  private async label(
    requestIdHash: string,
    ownerKeyHash: string | null,
    feedback: Pick<FeedbackRequest, 'verdict' | 'correct_answer' | 'comment'>,
    author: Pick<LabelEntry, 'by' | 'as'>,
  ): Promise<void> {
    const entry: LabelEntry = {
      verdict: feedback.verdict,
      ...(feedback.correct_answer ? { correct_answer: feedback.correct_answer } : {}),
      ...(feedback.comment ? { comment: feedback.comment } : {}),
      ...author,
      at: new Date().toISOString(),
    };
    let result: { updated: number; full: number };
    try {
      result = await this.logger.labelAnswer(requestIdHash, ownerKeyHash, entry, (record) => {
        const correction = feedback.verdict === 'incorrect' && feedback.correct_answer !== undefined;
        const label = appendLabelEntry(null, {
          ...entry,
          origin: 'answer_record',
          confident: !record.flagged,
          on_policy_pair: correction && !record.flagged,
        });
        return hardExampleFromRecord(record, label ?? '');
      });
    } catch (cause) {
      throw apiError('FEEDBACK_UNAVAILABLE', 'the hard-example store is unreachable', { cause });
    }
    if (result.updated === 0 && result.full > 0) {
      throw apiError('FEEDBACK_LIMIT_REACHED', `${MAX_LABEL_ENTRIES} labels`);
    }
    if (result.updated === 0) {
      const hours = this.logger.answerRetentionMs / 3_600_000;
      throw apiError(
        'NOT_FOUND',
        hours > 0
          ? `no answer with this request_id for this key in the last ${hours} h (CHEXPO_ANSWER_RETENTION_HOURS)`
          : 'no flagged answer with this request_id for this key (answer records are off: CHEXPO_ANSWER_RETENTION_HOURS=0)',
      );
    }
  }
}
