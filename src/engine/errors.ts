/** Engine errors with stable codes; API-facing ones reuse the server catalogue's codes. */
export type EngineErrorCode =
  | 'WORKER_FAILED'
  | 'QUEUE_FULL'
  | 'MODEL_NOT_READY'
  | 'ENGINE_LOAD_FAILED'
  | 'ENGINE_VERIFY_FAILED'
  | 'ENGINE_CLOSED';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Codes a worker may report that clients should see as they are (bad input, not a server fault). */
const CLIENT_CODES = new Set([
  'IMAGE_EMPTY',
  'IMAGE_UNDECODABLE',
  'IMAGE_TOO_LARGE',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'UNSUPPORTED_IMAGE_FORMAT',
  'DICOM_NOT_IMAGE',
  'NOT_A_RADIOGRAPH',
  'NOT_A_CHEST_IMAGE',
  'IMAGE_TOO_SMALL',
]);

/** A worker's coded error as thrown on the main thread; anything that is not the client's fault is WORKER_FAILED. */
export function fromWire(error: { code: string; message: string }): Error {
  if (CLIENT_CODES.has(error.code)) return Object.assign(new Error(error.message), { code: error.code });
  return new EngineError('WORKER_FAILED', `${error.code}: ${error.message}`);
}
