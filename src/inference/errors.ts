/** Coded errors of running a model version over a data set; `code` is stable, the message is for people. */
import { defineErrors } from '../errors/define.ts';

export class EvaluationRunError extends defineErrors(
  'EvaluationRunError',
  {
    CHEXPO_ERR_EVALRUN_EMPTY: {
      when: 'No reference or held-out images to fit the OOD detector or its quantiles on: the split is empty or filtered away.',
    },
    CHEXPO_ERR_EVALRUN_BAD_OOD_REFERENCE: {
      when: 'An OOD reference that is not a valid chexpo.ood detector (wrong embedding size, singular covariance, no k-NN part): refit it with `chexpo release`.',
    },
    CHEXPO_ERR_EVALRUN_BAD_DATA: {
      when: 'A data set that does not hold together (a missing file, a sample of an unknown case): not a chexpo data set, or a damaged one.',
    },
    CHEXPO_ERR_EVALRUN_BAD_OPERATING_POINT: {
      when: 'An operating-point.json that is not a chexpo.operating-point/1 document with closed_yes_threshold in [0.5, 1), or a threshold outside it: refit it with the loop (operatingPoint.fit).',
    },
    CHEXPO_ERR_EVALRUN_BAD_OPTION: {
      when: 'An option of the offline run out of range (batch size or limit < 1, a false-flag rate ∉ (0, 1)).',
    },
  },
  'CHEXPO_ERR_EVALRUN_',
) {}
export type EvaluationRunErrorCode = EvaluationRunError['code'];
