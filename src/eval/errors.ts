/** Coded errors of the evaluation; `code` is stable, the message is for people. */
export type EvaluationErrorCode =
  | 'UNKNOWN_SAMPLE'
  | 'MISSING_PREDICTION'
  | 'DUPLICATE_PREDICTION'
  | 'EMPTY'
  | 'BAD_OPTION'
  | 'BAD_CALIBRATOR';

export class EvaluationError extends Error {
  readonly code: `CHEXPO_ERR_EVAL_${EvaluationErrorCode}`;

  constructor(code: EvaluationErrorCode, message: string) {
    super(message);
    this.name = 'EvaluationError';
    this.code = `CHEXPO_ERR_EVAL_${code}`;
  }
}
