/** Coded errors of the evaluation; `code` is stable, the message is for people. */
import { defineErrors } from '../errors/define.ts';

export class EvaluationError extends defineErrors(
  'EvaluationError',
  {
    CHEXPO_ERR_EVAL_UNKNOWN_SAMPLE: {
      when: 'A prediction for a sample the truth does not hold (predictions of another split or data set).',
    },
    CHEXPO_ERR_EVAL_MISSING_PREDICTION: {
      when: 'A sample of the split without a prediction (an interrupted or filtered run): rerun `chexpo eval` over the whole split.',
    },
    CHEXPO_ERR_EVAL_DUPLICATE_PREDICTION: {
      when: 'Two predictions for one sample (predictions files concatenated twice).',
    },
    CHEXPO_ERR_EVAL_EMPTY: {
      when: 'Nothing to score, or no examples to fit or measure the risk calibrator on.',
    },
    CHEXPO_ERR_EVAL_BAD_OPTION: {
      when: 'An evaluation option out of range (bins < 1, level ∉ (0, 1), resamples < 0).',
    },
    CHEXPO_ERR_EVAL_BAD_CALIBRATOR: {
      when: 'A risk.json that is not a chexpo.risk/1 calibrator for these features: recalibrate with `chexpo release`.',
    },
  },
  'CHEXPO_ERR_EVAL_',
) {}
export type EvaluationErrorCode = EvaluationError['code'];
