/** Stable codes for autodiff failures. */
export type AutodiffErrorCode =
  | 'AUTODIFF_NO_RULE'
  | 'AUTODIFF_UNSUPPORTED'
  | 'AUTODIFF_BAD_LOSS'
  | 'AUTODIFF_BAD_PARAM';

export class AutodiffError extends Error {
  readonly code: AutodiffErrorCode;

  constructor(code: AutodiffErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'AutodiffError';
    this.code = code;
  }
}
