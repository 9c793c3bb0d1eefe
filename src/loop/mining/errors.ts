/** Coded errors of hard-example mining; `code` is stable, the message is for people. */
export type MiningErrorCode =
  /** An option outside its range (limit < 1, batch size < 500 for pool writes, fraction ∉ (0, 1], …). */
  | 'BAD_OPTION'
  /** Inputs that do not fit together (a prediction for an unknown sample, an embedding of the wrong width). */
  | 'BAD_DATA';

export class MiningError extends Error {
  readonly code: `CHEXPO_ERR_MINING_${MiningErrorCode}`;

  constructor(code: MiningErrorCode, message: string) {
    super(message);
    this.name = 'MiningError';
    this.code = `CHEXPO_ERR_MINING_${code}`;
  }
}
