/**
 * The ablation arms of `chexpo experiment`, after the paper's table: which samples each arm trains
 * on and which pairs it builds from them. Every DPO arm gets the same number of pairs (the budget)
 * and the same DPO settings; only the selection and the pair kinds differ.
 */
import { splitTarget } from '../../data/instructions/index.ts';
import { Rng } from '../../data/random.ts';
import type { PairKind } from '../../store/contract.ts';
import { balanceChosenAnswers } from '../pair-balance.ts';
import { pairsForAll } from '../pairs/index.ts';
import type { PairCandidate, SelectedSample } from '../types.ts';

export const ARM_NAMES = [
  'sft',
  'sft_continued',
  'dpo_random',
  'dpo_confidence',
  'dpo_conf_sim',
  'chexpo',
  'chexpo_plus',
] as const;
export type ArmName = (typeof ARM_NAMES)[number];

export const ARM_LABELS: Record<ArmName, string> = {
  sft: 'SFT (the release)',
  sft_continued: 'SFT continued on the same sample budget',
  dpo_random: 'DPO, random samples (answer-only pairs)',
  dpo_confidence: 'DPO, confidence-mined samples (answer-only pairs)',
  dpo_conf_sim: 'DPO, confidence + similarity mining (answer-only pairs)',
  chexpo: 'CheXPO: + counterfactual rationales',
  chexpo_plus: 'ours: + image-counterfactual and on-policy pairs',
};

export const TEXT_KINDS: readonly PairKind[] = [
  'negation',
  'laterality',
  'severity',
  'location',
  'confusable',
  'cooccurrence',
];

/** The three sample selections the DPO arms draw from. */
export interface ArmSelections {
  random: SelectedSample[];
  confidence: SelectedSample[];
  confSim: SelectedSample[];
}

/** The answer alone: "yes", "left", a report unchanged (reports have no rationale). */
function answerOnly(p: PairCandidate): PairCandidate {
  if (p.provenance.task === 'report') return p;
  return { ...p, chosen: splitTarget(p.chosen).answer, rejected: splitTarget(p.rejected).answer };
}

/** Pairs of one DPO arm before the common budget is applied. */
export function armPairs(
  arm: ArmName,
  s: ArmSelections,
  seed: number,
  maxPerSample: number,
): PairCandidate[] {
  const text = { kinds: TEXT_KINDS, maxPerSample, seed };
  const all = { maxPerSample, seed };
  const answersOnly = (sel: SelectedSample[]) =>
    pairsForAll(sel, text)
      .map(answerOnly)
      .filter((p) => p.chosen !== p.rejected);
  switch (arm) {
    case 'dpo_random':
      return balanceChosenAnswers(answersOnly(s.random));
    case 'dpo_confidence':
      return balanceChosenAnswers(answersOnly(s.confidence));
    case 'dpo_conf_sim':
      return balanceChosenAnswers(answersOnly(s.confSim));
    case 'chexpo':
      return balanceChosenAnswers(pairsForAll(s.confSim, text));
    case 'chexpo_plus':
      return balanceChosenAnswers(pairsForAll(s.confSim, all));
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
