/** Stable codes for preference-pair failures. */
export type PairsErrorCode =
  /** An image reference the resolver cannot serve (unknown case, no store, missing image). */
  | 'PAIRS_UNRESOLVED_IMAGE'
  /** A phantom_edit reference on a case that is not a phantom (no seed/anatomy). */
  | 'PAIRS_NOT_A_PHANTOM'
  /** A stored pair row whose image_ref or provenance does not parse. */
  | 'PAIRS_BAD_ROW'
  /** An option outside its range (maxPerSample < 1, unknown kind, …). */
  | 'PAIRS_BAD_OPTIONS';

export class PairsError extends Error {
  readonly code: PairsErrorCode;

  constructor(code: PairsErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'PairsError';
    this.code = code;
  }
}
