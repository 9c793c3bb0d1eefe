/**
 * Default DPO weight of each pair kind (the per-pair multiplier of the loss).
 *
 * Why these values:
 * - on_policy 1.0: the model's own wrong answer is exactly the failure DPO should push down; its
 *   rejected text lies where the policy puts mass, so it is the most informative pair.
 * - image_counterfactual 1.0: chosen and rejected texts are identical, so only the image can tell
 *   them apart (mDPO); this is the pair that stops the model answering from the question's priors.
 * - confusable 0.9, cooccurrence 0.9: the clinically costly errors the gate's safety metrics watch
 *   (confusion between look-alikes, POPE-style hallucination of a co-occurring finding).
 * - laterality, severity, location 0.8: attribute errors; the rejected text differs from the chosen
 *   in one or two words, a fine-grained signal, but less harmful than a wrong finding.
 * - negation 0.7: the easiest flip and the most frequent (every closed question yields one); it is
 *   down-weighted so it does not dominate the set, and because a whole-rationale flip shares few
 *   tokens with the chosen side, large DPO pushes on it displace the chosen likelihood the most.
 */
import type { PairKind } from '../../store/contract.ts';

export const DEFAULT_KIND_WEIGHTS: Readonly<Record<PairKind, number>> = {
  on_policy: 1,
  image_counterfactual: 1,
  confusable: 0.9,
  cooccurrence: 0.9,
  laterality: 0.8,
  severity: 0.8,
  location: 0.8,
  negation: 0.7,
};
