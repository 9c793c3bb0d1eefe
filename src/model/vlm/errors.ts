/** Stable codes for chexpo-tiny failures (bad config, weights that do not fit it, bad sequences). */
import { defineErrors } from '../../errors/define.ts';

export class VlmError extends defineErrors('VlmError', {
  VLM_BAD_CONFIG: {
    when: 'A model config or decoding option out of range (unknown format, temperature ≤ 0, topP ∉ (0, 1], an unknown parameter name): fix the config or option the message names.',
  },
  VLM_BAD_WEIGHTS: {
    when: 'A weights file that does not fit the config (no chexpo.config metadata, another config, an integer tensor): the version directory is damaged or of another model.',
  },
  VLM_BAD_SEQUENCE: {
    when: 'An input the model cannot read (more text positions than maxSeqLen, an image of the wrong size) or a decoding step with every token banned.',
  },
}) {}
export type VlmErrorCode = VlmError['code'];
