/**
 * The typed messages between the engine (main thread) and its inference workers. Each worker serves
 * one model version; it is created with `WorkerInit` as workerData and answers `ready` (after
 * warm-up) or `load_failed`. Timestamps are absolute epoch milliseconds (`performance.timeOrigin +
 * performance.now()`), comparable across threads.
 */
import type { ImageInfo, InputGateConfig, InputWarning } from '../data/image/index.ts';
import type { TaskType } from '../data/types.ts';
import type {
  AnswerConfidence,
  AnswerSpan,
  AnswerTask,
  FinishReason,
  TokenConfidence,
} from '../inference/answer.ts';

export interface WorkerInit {
  versionDir: string;
  executionProvider: 'cpu' | 'cuda';
  /** ORT intra-op threads per session (workers × threads ≤ cores). */
  intraOpThreads: number;
  /** Most rows decoded together (iteration-level batch). */
  maxBatch: number;
  /** Re-encode the decoded pixels as PNG for hard-example logging (never the original file). */
  keepImagePng: boolean;
  /** Default token budget when a request gives none. */
  defaultMaxTokens: number;
  /** Waiting requests join a running batch once this many can join together (default 1)… */
  joinGroup?: number;
  /** …or this many decode steps after the last join (default 0). */
  joinEverySteps?: number;
}

/** What a worker needs of one request (the HTTP-level request minus transport details). */
export interface WorkerRequest {
  image: Uint8Array;
  task: AnswerTask;
  question?: string;
  options?: string[];
  maxTokens?: number;
  topLogprobs: number;
  /** When the main thread handed it over (queue time starts here). */
  submittedAt: number;
}

/** The image half of a request, prepared off the inference thread (see prepare.ts). */
export interface PreparedImage {
  /** (imageSize²) model input, normalised as in training. */
  input: Float32Array;
  imageSha256: string;
  imagePng?: Uint8Array;
  /** What was decoded (the answer's `image` block). */
  info: ImageInfo;
  /** The input gate's warnings (none when the engine runs without a gate). */
  warnings: InputWarning[];
}

/** What the inference worker receives: the request with its image already decoded and preprocessed. */
export interface InferenceRequest extends Omit<WorkerRequest, 'image'> {
  image: PreparedImage;
  preprocessMs: number;
}

export type MainToWorker =
  | { type: 'answer'; id: number; request: InferenceRequest }
  | { type: 'cancel'; id: number }
  /** Tests: die as a crash would, between two ORT calls (see Scheduler.atSafePoint). */
  | { type: 'crash' }
  /** Tests: hold every request before its next ORT call until `resume` (Scheduler.pause). */
  | { type: 'pause' }
  | { type: 'resume' };

export interface WireError {
  code: string;
  message: string;
}

/** The worker's answer: everything the response needs except model/flagged, plus what logging needs. */
export interface WorkerAnswer {
  answer: string;
  answerSpan: AnswerSpan[];
  tokens: TokenConfidence[];
  confidence: AnswerConfidence;
  risk: number;
  /** The instruction task the answer was scored as (calibrator feature, hard-example row). */
  taskType: TaskType;
  /** The prompt the model saw (question with its options), stored with a hard example. */
  prompt: string;
  unknownWordRate: number;
  oodScore: number;
  /** L2-normalised pooled image embedding. */
  embedding: Float32Array;
  imageSha256: string;
  /** Decoded pixels re-encoded as 16-bit PNG, when WorkerInit.keepImagePng. */
  imagePng?: Uint8Array;
  timings: { preprocess: number; encode: number; generate: number };
  /** Absolute time of the first generated token. */
  firstTokenAt: number;
  /** `stop`: the model ended the answer (<eos>); `length`: the token budget cut it off. */
  finishReason: FinishReason;
  /** Tokens the decoder was fed before generating: image tokens plus the prompt's text tokens. */
  promptTokens: number;
  /** Tokens generated, a final <eos> included. */
  completionTokens: number;
}

export type WorkerToMain =
  | { type: 'ready'; warmupMs: number }
  | { type: 'load_failed'; error: WireError }
  | { type: 'result'; id: number; answer: WorkerAnswer }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'batch'; stage: 'encode' | 'decode'; size: number };

/** Main thread ↔ preprocessing worker (prep-worker.ts). */
export type MainToPrep = {
  type: 'prepare';
  id: number;
  image: Uint8Array;
  imageSize: number;
  keepPng: boolean;
  /** Absent: no refusals and no warnings (programmatic engines, tests); `chexpo serve` always sets it. */
  gate?: InputGateConfig;
};
export type PrepToMain =
  | { type: 'ready' }
  | { type: 'prepared'; id: number; image: PreparedImage; ms: number }
  | { type: 'failed'; id: number; error: WireError };

export const now = (): number => performance.timeOrigin + performance.now();

export function toWireError(error: unknown): WireError {
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'INTERNAL',
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
}
