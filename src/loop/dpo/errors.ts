/** Stable codes for DPO training failures. */
export type DpoErrorCode =
  /** No pair survived tokenisation and image resolution. */
  | 'DPO_NO_PAIRS'
  /** A resolved image does not have the model's imageSize² values. */
  | 'DPO_BAD_IMAGE'
  /** An option outside its range (beta ≤ 0, batch size < 1, …). */
  | 'DPO_BAD_OPTIONS'
  /** A pairs file line that is not a PairCandidate. */
  | 'DPO_BAD_PAIRS_FILE'
  /** An image reference the resolver cannot serve (unknown case, unsupported kind). */
  | 'DPO_UNRESOLVED_IMAGE';

export class DpoError extends Error {
  readonly code: DpoErrorCode;

  constructor(code: DpoErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'DpoError';
    this.code = code;
  }
}
