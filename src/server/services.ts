/**
 * What the HTTP layer needs from the rest of chexpo. The engine implements AnswerService and the
 * hard-example store FeedbackService; the routes only validate, call these and serialise. Shapes
 * mirror schemas/*.json (snake_case, as on the wire); the parts of an answer are inference's
 * (src/inference/answer.ts).
 */
import type { ImageInfo, InputWarning } from '../data/image/index.ts';
import type {
  AnswerConfidence,
  AnswerSpan,
  AnswerTask,
  AnswerTimings,
  FinishReason,
  ModelInfo,
  TokenConfidence,
} from '../inference/answer.ts';

export type { AnswerSpan, AnswerTask, ModelInfo, TokenConfidence } from '../inference/answer.ts';

/** A validated /v1/answer request, with the image as raw file bytes (not yet decoded). */
export interface AnswerRequest {
  image: Uint8Array;
  /** Content type of the multipart file part, when the client sent one (a hint, not trusted). */
  image_media_type?: string;
  task: AnswerTask;
  /** Present and non-blank when task is 'vqa'. */
  question?: string;
  options?: string[];
  max_tokens?: number;
  top_logprobs: number;
  /** The answering route drops the token list from the response when false; services return it always. */
  return_tokens: boolean;
  /** The client's id, or one the server generated. */
  request_id: string;
  /** The asking key's id: request ids live in its namespace (feedback from other keys cannot find them). */
  key_id: string;
}

/** What was decoded (schemas/answer-response.json `image`), and the input gate's warning codes. */
export type { ImageInfo as AnswerImage, InputWarning as InputWarningCode } from '../data/image/index.ts';

/** What the engine returns; the route adds `request_id` and `disclaimer`. */
export interface AnswerResult {
  answer: string;
  answer_span: AnswerSpan[];
  /** The route omits them from the response when the request set return_tokens=false. */
  tokens?: TokenConfidence[];
  confidence: AnswerConfidence;
  risk: number;
  flagged: boolean;
  model: ModelInfo;
  timings_ms: AnswerTimings;
  image: ImageInfo;
  /** Input-gate warnings; each raised `risk`. */
  input_warnings: InputWarning[];
  /** `stop`: the model ended the answer; `length`: max_tokens (or the model's room) cut it off. */
  finish_reason: FinishReason;
  usage: Usage;
}

/** Token counts as OpenAI reports them: prompt = image tokens + text tokens; completion = generated. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface AnswerResponse extends AnswerResult {
  request_id: string;
  disclaimer: string;
}

export interface AnswerService {
  /**
   * Answers one request. `signal` aborts on the deadline or when the client disconnects; stop work
   * then. Throw errors with a catalogue `.code` (e.g. ImageError, or apiError('WORKER_FAILED')).
   */
  answer(request: AnswerRequest, signal: AbortSignal): Promise<AnswerResult>;
  /**
   * Admission control, asked before the request body is read: false answers QUEUE_FULL at once,
   * so a full queue never costs an upload or a decode.
   */
  canAdmit?(): boolean;
}

export interface FeedbackRequest {
  request_id: string;
  verdict: 'correct' | 'incorrect';
  /** Required when verdict is 'incorrect'. */
  correct_answer?: string;
  comment?: string;
  /** Admin keys only: the id of the key that asked (its request ids are in that key's namespace). */
  key_id?: string;
}

/** Who gives the feedback, and whose answer it labels (resolved by the route). */
export interface FeedbackPrincipal {
  /** The caller's key id. */
  keyId: string;
  /** The key that asked: the caller's own, or one an admin names with `key_id`. */
  owner: string;
}

export interface FeedbackResponse {
  request_id: string;
  status: 'recorded';
}

/** A reviewer's verdict from the review console, on a queue item (an answer's request-id hash). */
export interface ReviewFeedback {
  /** The request-id hash the store keeps (`request_id_hash`), as the queue lists it. */
  item: string;
  verdict: 'correct' | 'incorrect';
  /** Required when verdict is 'incorrect'; only text written from catalogue terms (docs/console.md). */
  correct_answer?: string;
}

export interface ReviewResponse {
  item: string;
  status: 'recorded';
}

export interface FeedbackService {
  /** Stores the label; throws apiError('NOT_FOUND') for an unknown request_id. */
  record(feedback: FeedbackRequest, principal: FeedbackPrincipal): Promise<FeedbackResponse>;
  /**
   * The same label, authored by a reviewer (standing `reviewer`) on an item of the review queue;
   * absent: the console's corrections answer FEEDBACK_UNAVAILABLE.
   */
  review?(feedback: ReviewFeedback, reviewer: { keyId: string }): Promise<ReviewResponse>;
}

/** Readiness as the engine reports it (KServe v2: ready only after load and warm-up). */
export type { ModelStatus } from '../engine/index.ts';

export const DISCLAIMER =
  'Research use only. Not a medical device and not a diagnosis; a qualified clinician must review every image.';
