/** Stable codes for DPO training failures. */
import { defineErrors } from '../../errors/define.ts';

export class DpoError extends defineErrors('DpoError', {
  DPO_NO_PAIRS: {
    when: 'No pair survived tokenisation and image resolution: check the pairs file and the data set it names.',
  },
  DPO_BAD_IMAGE: {
    when: "A resolved image without the model's imageSize² values (a data set of another image size).",
  },
  DPO_BAD_OPTIONS: { when: 'A DPO option out of range (beta ≤ 0, batch size < 1, …).' },
  DPO_BAD_PAIRS_FILE: { when: 'A pairs file line that is not a PairCandidate; the message gives file:line.' },
  DPO_UNRESOLVED_IMAGE: {
    when: 'An image reference the resolver cannot serve (unknown case, unsupported kind).',
  },
}) {}
export type DpoErrorCode = DpoError['code'];
