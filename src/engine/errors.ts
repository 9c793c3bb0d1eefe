/** Engine errors with stable codes; API-facing ones are the catalogue's (errors/public.ts). */

import { ImageError, type ImageErrorCode } from '../data/image/errors.ts';
import { defineErrors } from '../errors/define.ts';
import { ERROR_CATALOGUE, IMAGE_INPUT_ERRORS } from '../errors/public.ts';

export class EngineError extends defineErrors('EngineError', {
  WORKER_FAILED: ERROR_CATALOGUE.WORKER_FAILED,
  QUEUE_FULL: ERROR_CATALOGUE.QUEUE_FULL,
  MODEL_NOT_READY: ERROR_CATALOGUE.MODEL_NOT_READY,
  ENGINE_LOAD_FAILED: {
    when: 'A model version did not load or warm up in a worker (a worker exited, ORT refused the graph); the engine keeps serving the version it had and logs the cause: check the version with `chexpo release` verification or roll back.',
  },
  ENGINE_VERIFY_FAILED: {
    when: 'A version to swap to failed the registry check (missing file, size or sha256 mismatch); the engine keeps the version it serves: republish the version.',
  },
  ENGINE_CLOSED: {
    when: 'Work reached an engine that is shutting down; the API answers MODEL_NOT_READY (another replica answers).',
  },
}) {}
export type EngineErrorCode = EngineError['code'];

const isImageInput = (code: string): code is ImageErrorCode => Object.hasOwn(IMAGE_INPUT_ERRORS, code);

/** A worker's coded error as thrown on the main thread; anything that is not the client's fault is WORKER_FAILED. */
export function fromWire(error: { code: string; message: string }): Error {
  if (isImageInput(error.code)) return new ImageError(error.code, error.message);
  return new EngineError('WORKER_FAILED', `${error.code}: ${error.message}`);
}
