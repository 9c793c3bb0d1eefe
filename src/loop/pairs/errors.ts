/** Stable codes for preference-pair failures. */
import { defineErrors } from '../../errors/define.ts';

export class PairsError extends defineErrors('PairsError', {
  PAIRS_UNRESOLVED_IMAGE: {
    when: 'An image reference the resolver cannot serve (unknown case, no store, missing image).',
  },
  PAIRS_NOT_A_PHANTOM: {
    when: 'A phantom_edit reference on a case that is not a phantom (no seed or anatomy).',
  },
  PAIRS_BAD_ROW: {
    when: 'A stored pair row whose image_ref or provenance does not parse (a store written by another version).',
  },
  PAIRS_BAD_OPTIONS: { when: 'A pairing option out of range (maxPerSample < 1, an unknown kind, …).' },
}) {}
export type PairsErrorCode = PairsError['code'];
