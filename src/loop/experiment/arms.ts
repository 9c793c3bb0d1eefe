/**
 * The ablation arms of `chexpo experiment`, after the paper's table: which samples each arm trains
 * on and which pairs it builds from them. Every DPO arm gets the same number of pairs (the budget)
 * and the same DPO settings; only the selection and the pair kinds differ.
 */
import { splitTarget } from '../../data/instructions/index.ts';
import { Rng } from '../../data/random.ts';
import type { PairKind } from '../../store/contract.ts';
import type { LoopConfig } from '../config.ts';
import { balancePairDirections } from '../pairs/balance.ts';
import { sentenceCase } from '../pairs/casing.ts';
import { RULE_KINDS } from '../pairs/error-rate.ts';
import { pairsForAll } from '../pairs/index.ts';
import type { PairCandidate, SelectedSample } from '../types.ts';

export const ARM_NAMES = [
  'sft',
  'sft_continued',
  'dpo_random',
  'dpo_confidence',
  'dpo_conf_sim',
  'chexpo',
  'chexpo_on_policy',
  'chexpo_image_cf',
  'image_cf_only',
  'full_loop',
] as const;
export type ArmName = (typeof ARM_NAMES)[number];

export const ARM_LABELS: Record<ArmName, string> = {
  sft: 'SFT (the release)',
  sft_continued: "SFT continued (SFT's learning rate, same steps and tokens)",
  dpo_random: 'DPO, random samples (answer-only pairs)',
  dpo_confidence: 'DPO, confidence-mined samples (answer-only pairs)',
  dpo_conf_sim: 'DPO, confidence + similarity mining (answer-only pairs)',
  chexpo: 'CheXPO: + counterfactual rationales',
  chexpo_on_policy: '+ on-policy rejected answers',
  chexpo_image_cf: '+ image-counterfactual pairs, fixable errors only',
  image_cf_only: 'image-counterfactual pairs only (mDPO: same answer, edited image)',
  full_loop: 'full loop: the same recipe in rounds',
};

/** Arms that train with DPO (the rest are the SFT release and its continued-SFT control). */
export function isDpoArm(arm: ArmName): boolean {
  return arm !== 'sft' && arm !== 'sft_continued';
}

export const TEXT_KINDS: readonly PairKind[] = RULE_KINDS;

/** The three sample selections the DPO arms draw from. */
export interface ArmSelections {
  random: SelectedSample[];
  confidence: SelectedSample[];
  confSim: SelectedSample[];
}

/**
 * Answer-only pairs keep the answer-plus-rationale format: the rejected side is the rule's wrong answer
 * followed by the chosen side's own rationale, so the two differ only in the answer (not in length,
 * format or an early end-of-sequence) and the arm differs from CheXPO only in how the rejected answer
 * is made. Reports have no rationale and stay as they are.
 */
export function answerOnly(p: PairCandidate): PairCandidate {
  if (p.provenance.task === 'report') return p;
  const { rationale } = splitTarget(p.chosen);
  const answer = splitTarget(p.rejected).answer.toLowerCase();
  return { ...p, rejected: sentenceCase(rationale.length > 0 ? `${answer}. ${rationale}` : answer) };
}

/** Kinds of the CheXPO arms, cumulatively. */
export function armKinds(arm: ArmName): readonly PairKind[] {
  switch (arm) {
    case 'chexpo_on_policy':
      return [...TEXT_KINDS, 'on_policy'];
    case 'chexpo_image_cf':
    case 'full_loop':
      return [...TEXT_KINDS, 'on_policy', 'image_counterfactual'];
    // Both sides say the same words, so no answer prior can separate them: only the image can.
    case 'image_cf_only':
      return ['image_counterfactual'];
    default:
      return TEXT_KINDS;
  }
}

/**
 * The selection as an arm sees it: sampled answers only for arms with on-policy pairs, fixable marks
 * only for the image-counterfactual arms (a mark drops every other kind for that sample).
 */
function asSeenBy(arm: ArmName, sel: SelectedSample[]): SelectedSample[] {
  const kinds = armKinds(arm);
  const keepSamples = kinds.includes('on_policy');
  const keepFixable = kinds.includes('image_counterfactual');
  return sel.map((x) => {
    const { samples, fixable, ...rest } = x.scored;
    return {
      ...x,
      scored: {
        ...rest,
        ...(keepSamples && samples ? { samples } : {}),
        ...(keepFixable && fixable ? { fixable } : {}),
      },
    };
  });
}

/** Pairs of one DPO arm before the common budget is applied. */
export function armPairs(
  arm: ArmName,
  s: ArmSelections,
  seed: number,
  pairs: Pick<LoopConfig['pairs'], 'maxPerSample' | 'errorRateFloor' | 'absentPerPresent' | 'imageDirection'>,
): PairCandidate[] {
  const balance = (candidates: PairCandidate[]) =>
    balancePairDirections(candidates, 2, pairs.absentPerPresent ?? 1, pairs.imageDirection);
  const options = {
    kinds: armKinds(arm),
    maxPerSample: pairs.maxPerSample,
    seed,
    ...(pairs.errorRateFloor === undefined ? {} : { errorRateFloor: pairs.errorRateFloor }),
  };
  const answersOnly = (sel: SelectedSample[]) =>
    pairsForAll(asSeenBy(arm, sel), options)
      .map(answerOnly)
      .filter((p) => p.chosen !== p.rejected);
  switch (arm) {
    case 'dpo_random':
      return balance(answersOnly(s.random));
    case 'dpo_confidence':
      return balance(answersOnly(s.confidence));
    case 'dpo_conf_sim':
      return balance(answersOnly(s.confSim));
    case 'chexpo':
    case 'chexpo_on_policy':
    case 'chexpo_image_cf':
    case 'image_cf_only':
    case 'full_loop':
      return balance(pairsForAll(asSeenBy(arm, s.confSim), options));
    default:
      return [];
  }
}

/** A seeded subset of exactly `budget` pairs (all of them when fewer). */
export function takeBudget(pairs: readonly PairCandidate[], budget: number, seed: number, arm: string) {
  return Rng.derive(seed, `budget:${arm}`)
    .shuffle([...pairs])
    .slice(0, budget);
}
