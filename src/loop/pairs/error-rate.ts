/**
 * How often the model itself makes a rule-made pair's error: the share of its own answers to the
 * prompt (the greedy answer and the answers sampled at mining) that state the rejected side's answer.
 * A rule that invents an error the model never makes teaches little (the "rule-made rejected
 * answers are off-policy"), so with `errorRateFloor` set such a pair's weight falls towards the floor.
 */
import { splitTarget } from '../../data/instructions/target.ts';
import { PAIR_KINDS, type PairKind } from '../../store/contract.ts';
import type { SelectedSample } from '../types.ts';

/** Kinds whose rejected side is written by a rule rather than taken from the model or the image. */
export const RULE_KINDS: readonly PairKind[] = PAIR_KINDS.filter(
  (k) => k !== 'on_policy' && k !== 'image_counterfactual',
);

/** The stated answer, case and punctuation aside: "Yes." and "yes" make the same error. */
function answerKey(text: string): string {
  return splitTarget(text)
    .answer.toLowerCase()
    .replace(/[^a-z0-9<>.%\s-]/g, ' ')
    .replace(/\.+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Share of the model's answers that state `rejected`'s answer, or undefined when the sample has no
 * sampled answers (nothing to estimate from) or is a report (free text rarely repeats verbatim).
 */
export function modelErrorRate(selected: SelectedSample, rejected: string): number | undefined {
  const { samples, prediction, sample } = selected.scored;
  if (!samples || samples.length === 0 || sample.task === 'report') return undefined;
  const key = answerKey(rejected);
  if (key.length === 0) return undefined;
  const answers = [prediction.text, ...samples];
  return answers.filter((a) => answerKey(a) === key).length / answers.length;
}

/** The kind weight scaled by the model's error rate: floor + (1 − floor) × rate (unchanged when unknown). */
export function errorRateWeight(
  kind: PairKind,
  kindWeight: number,
  selected: SelectedSample,
  rejected: string,
  floor: number | undefined,
): number {
  if (floor === undefined || !RULE_KINDS.includes(kind)) return kindWeight;
  const rate = modelErrorRate(selected, rejected);
  return rate === undefined ? kindWeight : kindWeight * (floor + (1 - floor) * rate);
}
