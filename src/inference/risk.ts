/**
 * The risk of an answer: P(wrong) from the version's calibrator (src/eval/calibrate.ts, fitted on the
 * validation split and shipped as calibrator.json) over the answer's confidences, its task, the
 * question's unknown-word rate and the image's OOD score.
 *
 * Fallback without calibrator.json: an answer is taken to be right only when the model is sure of
 * it, the image is in distribution and the question's words are known, treated as independent:
 *   risk = 1 − answer_prob · (1 − ood) · (1 − unknown_word_rate).
 * Uncalibrated (a raw model is usually over-confident), but monotone in every feature, so ranking
 * hard examples still works.
 */
import type { TaskType } from '../data/types.ts';
import { RiskCalibrator } from '../eval/index.ts';

export interface RiskInputs {
  answer_prob: number;
  min_prob: number;
  mean_logprob: number;
  task: TaskType;
  unknown_word_rate: number;
  ood_score: number;
}

export type RiskModel = (f: RiskInputs) => number;

export const fallbackRisk: RiskModel = (f) =>
  1 - f.answer_prob * (1 - f.ood_score) * (1 - f.unknown_word_rate);

/**
 * P(the image is outside the training distribution) from its OOD score, the quantile of its distance
 * among held-out in-distribution images (uniform on [0, 1] for them), around the version's flag
 * quantile (1 − its false-flag rate; 0.99 for v0001–v0002): ≈0 one point below it, 0.5 at it, ≈0.96
 * one point above.
 */
export function outOfDistribution(oodScore: number, flagQuantile = 0.99): number {
  return 1 / (1 + Math.exp(-(oodScore - flagQuantile) / 0.003));
}

/**
 * The version's calibrator, or the fallback when it ships none (an invalid one is an error).
 * The calibrator is fitted on in-distribution validation answers with known words, so it cannot learn
 * what an unfamiliar image or question does to correctness; those two enter as independent factors:
 *   risk = 1 − (1 − calibrated) · (1 − P(out of distribution)) · (1 − unknown_word_rate).
 */
export function riskModel(calibratorJson: unknown, oodFlagQuantile?: number): RiskModel {
  if (calibratorJson === undefined) return fallbackRisk;
  const calibrator = RiskCalibrator.fromJSON(calibratorJson);
  return (f) =>
    1 -
    (1 - calibrator.predictRisk(f)) *
      (1 - outOfDistribution(f.ood_score, oodFlagQuantile)) *
      (1 - f.unknown_word_rate);
}

export const clampUnit = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1);
