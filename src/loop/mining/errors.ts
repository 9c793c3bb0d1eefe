/** Coded errors of hard-example mining; `code` is stable, the message is for people. */
import { defineErrors } from '../../errors/define.ts';

export class MiningError extends defineErrors(
  'MiningError',
  {
    CHEXPO_ERR_MINING_BAD_OPTION: {
      when: 'A mining option out of range (limit < 1, batch size < 500 for pool writes, fraction ∉ (0, 1], …).',
    },
    CHEXPO_ERR_MINING_BAD_DATA: {
      when: 'Mining inputs that do not fit together (a prediction for an unknown sample, an embedding of the wrong width).',
    },
  },
  'CHEXPO_ERR_MINING_',
) {}
export type MiningErrorCode = MiningError['code'];
