/**
 * Direction balance of preference pairs. DPO moves the answer prior toward whatever the pairs
 * favour where the model cannot tell their images apart: on v0001, 200 pairs of which 58% chose
 * "no" over "yes" took the model's "yes" share on held-out questions from 0.45 to 0.10. Balancing
 * the chosen sides alone (session 5) was not enough: most on-policy pairs on present findings
 * reject another named value (present against present, no prior shift), so they were counted as
 * "present" while pairs choosing "none" over a named value all pushed toward "none", and choice
 * questions on present findings fell (consolidation 0.68 → 0.12, docs/results.md).
 *
 * So a pair's direction is the presence it favours:
 * - text pairs: chosen side absent ("no", "none") and rejected present → 'absent'; the reverse →
 *   'present'; both sides the same presence → no direction;
 * - image counterfactuals (same text, edited rejected image): removing the asked finding teaches
 *   "do not say present when it is gone" → 'absent'; adding it → 'present'; other edits (side,
 *   severity, another finding) → no direction.
 * Within each finding × task the two directions are capped to each other's count (never below
 * `floor`), keeping the first ones in their given (seeded, balanced) order; pairs with no direction
 * pass untouched.
 *
 * Equal counts are not equal effects: the log-prob gradient of an answer is largest where the model
 * gives it little mass, so on a base that omits more than it hallucinates the "present" pairs pull
 * harder (v0005: closed hallucination 0.107 → 0.165 under balanced counts). `absentPerPresent` r
 * sets the operating point instead: up to r absent-favouring pairs per present-favouring one (1 =
 * balanced), chosen on the validation split. On v0006 a larger r raised "yes" (validation: adversarial
 * yes 0.270 at r 3, 0.284 at r 6), so `imageDirection` 'answer' reads image counterfactuals by the
 * answer they raise instead (docs/results.md).
 */
import { ABSENT_ANSWER, splitTarget } from '../../data/instructions/index.ts';
import type { PairCandidate } from '../types.ts';

export type Presence = 'present' | 'absent';

/** What an answer says of its finding; null for tasks without one answer (lists, reports). */
export function answerPresence(task: PairCandidate['provenance']['task'], text: string): Presence | null {
  const answer = splitTarget(text).answer.trim().toLowerCase();
  switch (task) {
    case 'closed':
      return answer === 'yes' ? 'present' : answer === 'no' ? 'absent' : null;
    case 'choice':
    case 'open':
      return answer === ABSENT_ANSWER ? 'absent' : 'present';
    default:
      return null;
  }
}

/**
 * What an image counterfactual's direction is read from: `edit`, the presence the edit teaches (a
 * removed finding → absent); `answer`, the presence of the answer both sides share, which DPO with
 * mDPO's anchor raises on the real image (a removed finding → the answer says present).
 */
export type ImageDirection = 'edit' | 'answer';

/** The presence a pair favours where its two images look alike; null when it favours neither. */
export function pairDirection(p: PairCandidate, imageDirection: ImageDirection = 'edit'): Presence | null {
  const { task, finding } = p.provenance;
  if (p.rejectedImage.kind === 'phantom_edit') {
    const { edit } = p.rejectedImage;
    const answer = answerPresence(task, p.chosen);
    if (edit.finding !== finding || answer === null) return null;
    if (edit.change !== 'remove' && edit.change !== 'add') return null;
    if (imageDirection === 'answer') return answer;
    return edit.change === 'remove' ? 'absent' : 'present';
  }
  const chosen = answerPresence(task, p.chosen);
  const rejected = answerPresence(task, p.rejected);
  return chosen && rejected && chosen !== rejected ? chosen : null;
}

export function balancePairDirections(
  pairs: readonly PairCandidate[],
  floor = 2,
  absentPerPresent = 1,
  imageDirection: ImageDirection = 'edit',
): PairCandidate[] {
  if (!(absentPerPresent > 0 && Number.isFinite(absentPerPresent)))
    throw new RangeError(`absentPerPresent must be a positive number (got ${absentPerPresent})`);
  const keyOf = (p: PairCandidate): string => `${p.provenance.finding ?? 'none'}|${p.provenance.task}`;
  const counts = new Map<string, Record<Presence, number>>();
  for (const p of pairs) {
    const direction = pairDirection(p, imageDirection);
    if (!direction) continue;
    const c = counts.get(keyOf(p)) ?? { present: 0, absent: 0 };
    c[direction]++;
    counts.set(keyOf(p), c);
  }
  const taken = new Map<string, Record<Presence, number>>();
  return pairs.filter((p) => {
    const direction = pairDirection(p, imageDirection);
    if (!direction) return true;
    const c = counts.get(keyOf(p))!;
    const cap = Math.max(
      floor,
      Math.round(direction === 'present' ? c.absent / absentPerPresent : c.present * absentPerPresent),
    );
    const t = taken.get(keyOf(p)) ?? { present: 0, absent: 0 };
    if (t[direction] >= cap) return false;
    t[direction]++;
    taken.set(keyOf(p), t);
    return true;
  });
}
