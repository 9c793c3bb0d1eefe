/** Stable codes for chexpo-tiny failures (bad config, weights that do not fit it, bad sequences). */
export type VlmErrorCode = 'VLM_BAD_CONFIG' | 'VLM_BAD_WEIGHTS' | 'VLM_BAD_SEQUENCE';

export class VlmError extends Error {
  readonly code: VlmErrorCode;

  constructor(code: VlmErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'VlmError';
    this.code = code;
  }
}
