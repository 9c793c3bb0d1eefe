/** Stable codes for autodiff failures. */
import { defineErrors } from '../../errors/define.ts';

export class AutodiffError extends defineErrors('AutodiffError', {
  AUTODIFF_NO_RULE: {
    when: 'The backward pass met an op with no gradient rule (the message names it): add its rule to the autodiff table.',
  },
  AUTODIFF_UNSUPPORTED: {
    when: 'An op in a form its rule does not differentiate (an omitted or non-constant input, Gemm alpha/beta ≠ 1, a Slice step ≠ 1).',
  },
  AUTODIFF_BAD_LOSS: {
    when: 'The loss is not a float scalar, or the seed gradient does not fit it (a bug in the training graph).',
  },
  AUTODIFF_BAD_PARAM: {
    when: 'A gradient asked for a tensor that is not a float parameter of the graph (a bug in the training graph).',
  },
}) {}
export type AutodiffErrorCode = AutodiffError['code'];
