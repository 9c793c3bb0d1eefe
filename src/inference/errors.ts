/** Coded errors of running a model version over a data set; `code` is stable, the message is for people. */
export type EvaluationRunErrorCode = 'EMPTY' | 'BAD_OOD_REFERENCE' | 'BAD_DATA' | 'BAD_OPTION';

export class EvaluationRunError extends Error {
  readonly code: `CHEXPO_ERR_EVALRUN_${EvaluationRunErrorCode}`;

  constructor(code: EvaluationRunErrorCode, message: string) {
    super(message);
    this.name = 'EvaluationRunError';
    this.code = `CHEXPO_ERR_EVALRUN_${code}`;
  }
}
