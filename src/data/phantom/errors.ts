/** Coded errors of the phantom generator; `code` is stable, the message is for people. */
import { defineErrors } from '../../errors/define.ts';

export class PhantomError extends defineErrors(
  'PhantomError',
  {
    CHEXPO_ERR_PHANTOM_CONFIG_PREVALENCE: { when: '`chexpo synth`: a finding prevalence outside [0, 1].' },
    CHEXPO_ERR_PHANTOM_CONFIG_BOOST: {
      when: '`chexpo synth`: a conditional boost between findings against the sampling order.',
    },
    CHEXPO_ERR_PHANTOM_CONFIG_NOT_DRIVER: {
      when: '`chexpo synth`: a boost whose given finding conditions no other finding in the config.',
    },
    CHEXPO_ERR_PHANTOM_RENDER_SIZE: { when: 'A phantom render size that is not an integer in [16, 4096].' },
    CHEXPO_ERR_PHANTOM_EDIT_NOT_APPLICABLE: {
      when: 'A phantom edit (a counterfactual image for a pair) that does not apply to the case (altering an absent finding, a severity it lacks); the pair is not made.',
    },
    CHEXPO_ERR_PHANTOM_EDIT_UNKNOWN_FINDING: {
      when: 'A phantom edit naming a finding the phantom model does not know.',
    },
  },
  'CHEXPO_ERR_PHANTOM_',
) {}
export type PhantomErrorCode = PhantomError['code'];
