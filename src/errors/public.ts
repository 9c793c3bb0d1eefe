/**
 * The one catalogue of API errors. Every answer that is not a success carries one of these codes
 * in `{ error: { code, message, details? } }`; docs/errors.md mirrors this table (a test keeps them in
 * step). Codes are stable: clients branch on them, so rename nothing.
 */
import type { ErrorSpec } from './define.ts';

/** A code the API answers with: its status and message are part of the contract. */
export type PublicErrorSpec = ErrorSpec & { status: number; message: string };

/**
 * Images the client sent that the decoder cannot read or the input gate refuses (the image
 * decoder's ImageError codes the client sees; a worker's error with one of them passes through).
 */
export const IMAGE_INPUT_ERRORS = {
  IMAGE_EMPTY: {
    status: 400,
    message: 'the image is empty',
    when: 'The image field or file part has zero bytes.',
  },
  IMAGE_UNDECODABLE: {
    status: 400,
    message: 'the image could not be decoded',
    when: 'A truncated or corrupt DICOM/PNG/JPEG file, invalid base64, or invalid declared dimensions.',
  },
  IMAGE_TOO_LARGE: {
    status: 413,
    message: 'the image is too large',
    when: 'The file exceeds CHEXPO_MAX_IMAGE_BYTES, or its header declares more pixels than the decoder accepts.',
  },
  UNSUPPORTED_TRANSFER_SYNTAX: {
    status: 415,
    message: 'the DICOM transfer syntax is not supported',
    when: 'A DICOM file compressed with a syntax the decoder cannot read.',
  },
  DICOM_NOT_IMAGE: {
    status: 422,
    message: 'the DICOM file holds no image',
    when: 'A DICOM object without pixel data (a report, a structured document, …).',
  },
  NOT_A_RADIOGRAPH: {
    status: 422,
    message: 'the image is not a projection radiograph',
    when: 'A DICOM file whose Modality is not in CHEXPO_GATE_MODALITIES (default CR, DX): CT, MR, US, NM, SEG, secondary capture, ….',
  },
  NOT_A_CHEST_IMAGE: {
    status: 422,
    message: 'the image is not of the chest',
    when: 'A DICOM file whose BodyPartExamined is present and not the chest (e.g. HAND, EXTREMITY, SKULL); a missing tag is accepted.',
  },
  IMAGE_TOO_SMALL: {
    status: 422,
    message: 'the image is too small to read',
    when: 'The decoded image’s shortest side is under CHEXPO_GATE_MIN_SIDE_PX (default 256): a thumbnail, not a film.',
  },
  UNSUPPORTED_IMAGE_FORMAT: {
    status: 415,
    message: 'the image format is not supported',
    when: 'The bytes are not DICOM, PNG or JPEG, or use a variant the decoder does not read.',
  },
} as const satisfies Record<string, PublicErrorSpec>;

export const ERROR_CATALOGUE = {
  ...IMAGE_INPUT_ERRORS,
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'unsupported content type; send application/json or multipart/form-data',
    when: 'The request Content-Type is missing or not one the route accepts.',
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'the request body is too large',
    when: 'The body exceeds CHEXPO_BODY_LIMIT_BYTES, or a multipart request has too many parts.',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request body did not arrive within the deadline',
    when: 'The body was still arriving CHEXPO_REQUEST_TIMEOUT_MS after the request started (slow or stalled upload); the connection is closed.',
  },
  URI_TOO_LONG: {
    status: 414,
    message: 'the request URL is too long',
    when: 'A path parameter (e.g. a run id) is longer than the 128 characters any id can have.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: 'the request headers are too large',
    when: 'The request line and headers exceed the HTTP parser limit (16 KiB); the connection is closed.',
  },
  INVALID_REQUEST: {
    status: 400,
    message: 'the request is invalid',
    when: 'Malformed JSON or a body that fails its schema; `details` lists each offending field.',
  },
  QUESTION_REQUIRED: {
    status: 400,
    message: 'a question is required when task is "vqa"',
    when: 'task is `vqa` (the default) and `question` is absent or blank.',
  },
  IMAGE_REQUIRED: {
    status: 400,
    message: 'exactly one image is required',
    when: 'POST /v1/chat/completions whose user message has no `image_url` content part, or more than one.',
  },
  IMAGE_URL_UNSUPPORTED: {
    status: 400,
    message: 'only base64 data: URLs are accepted as image_url (the server fetches nothing)',
    when: 'POST /v1/chat/completions with an `image_url` that is an http(s) or other non-data URL: send `data:<media type>;base64,<bytes>`.',
  },
  UNSUPPORTED_PARAMETER: {
    status: 400,
    message: 'a parameter has a value chexpo does not support',
    when: 'POST /v1/chat/completions with `n` > 1, stop sequences, a non-zero presence/frequency penalty, or an assistant turn (chexpo answers one question per image); `details` names the field.',
  },
  UNKNOWN_FIELD: {
    status: 400,
    message: 'the request has fields this endpoint does not know',
    when: 'A body field or multipart part not in the schema; `details` names each one.',
  },
  UNAUTHORIZED: {
    status: 401,
    message: 'a valid API key is required (Authorization: Bearer <key>)',
    when: 'No Authorization header, a malformed one, or an unknown key.',
  },
  FORBIDDEN: {
    status: 403,
    message: 'this API key lacks the scope this endpoint needs',
    when: "A known key without the route’s scope (answer, feedback, review or admin; the console's review queue needs review, which admin does not imply), or feedback naming another key's answer (`key_id`) without the admin scope.",
  },
  NOT_FOUND: {
    status: 404,
    message: 'not found',
    when: 'An unknown route or model name, feedback for a request_id this key never asked (or an answer that was not flagged), or an unknown run id (admin).',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'too many requests',
    when: 'The client address exceeded CHEXPO_RATE_LIMIT_ADDRESS_MAX per window (counted before authentication), or the key (the address, when auth is disabled) exceeded CHEXPO_RATE_LIMIT_MAX.',
    retryAfter: true,
  },
  QUEUE_FULL: {
    status: 503,
    message: 'the inference queue is full',
    when: 'Admission control refused the request before its body was read (CHEXPO_MAX_QUEUE).',
    retryAfter: true,
  },
  OVERLOADED: {
    status: 503,
    message: 'the server is overloaded',
    when: 'Event-loop delay exceeds CHEXPO_MAX_EVENT_LOOP_DELAY_MS (@fastify/under-pressure).',
    retryAfter: true,
  },
  DEADLINE_EXCEEDED: {
    status: 504,
    message: 'the request did not finish within its deadline',
    when: 'The answer took longer than CHEXPO_REQUEST_TIMEOUT_MS; the work is cancelled.',
  },
  REQUEST_CANCELLED: {
    status: 499,
    message: 'the client closed the request',
    when: 'The client disconnected before the answer was ready; the work is cancelled (seen in logs and metrics).',
  },
  MODEL_NOT_READY: {
    status: 503,
    message: 'no model version is loaded and warmed up yet',
    when: 'Before the first model version is ready, when no engine is attached, or while the server shuts down (retry: another replica answers).',
    retryAfter: true,
  },
  FEEDBACK_UNAVAILABLE: {
    status: 503,
    message: 'feedback cannot be recorded right now',
    when: 'No hard-example store is attached.',
    retryAfter: true,
  },
  FEEDBACK_LIMIT_REACHED: {
    status: 409,
    message: 'this answer holds as many labels as it can',
    when: 'POST /v1/feedback on an answer whose label history already holds 32 entries (labels are appended, never overwritten).',
  },
  TRAINER_BUSY: {
    status: 409,
    message: 'a training run is already in progress',
    when: 'POST /v1/admin/train while a `chexpo loop run` started by this server is still running (one at a time).',
  },
  TRAINER_DISABLED: {
    status: 503,
    message: 'the trainer is disabled on this server',
    when: 'POST /v1/admin/train when CHEXPO_LOOP_ENABLED is off (e.g. replicas whose training runs as a CronJob).',
  },
  ROLLBACK_REFUSED: {
    status: 409,
    message: 'the registry refused to move CURRENT',
    when: 'POST /v1/admin/rollback with no earlier version to return to, no CURRENT yet, or a target that fails verification.',
  },
  ADMIN_UNAVAILABLE: {
    status: 503,
    message: 'the model registry or the run store is unavailable',
    when: 'An admin route when no registry is attached, or the registry or store cannot be read right now.',
    retryAfter: true,
  },
  WORKER_FAILED: {
    status: 500,
    message: 'the inference worker failed; the request may be retried',
    when: 'An inference worker crashed or returned an error; it is replaced.',
  },
  INTERNAL: {
    status: 500,
    message: 'internal error',
    when: 'Anything unexpected; the log holds the cause (never the response).',
  },
} as const satisfies Record<string, PublicErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}
