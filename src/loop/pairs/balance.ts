/**
 * Present/absent balance of answer pairs. DPO moves the answer prior toward whatever the chosen
 * sides say most: on v0001, 200 pairs of which 58% chose "no" took the model's "yes" share on
 * held-out questions from 0.45 to 0.10. On v0003 the same happened to open and choice questions,
 * which only yes/no balance missed: pairs choosing a named location or device tip over "none" took
 * location/none accuracy from 0.97 to 0.52 and tip/none from 1.00 to 0.10 (docs/results.md). So
 * within each finding × task, pairs whose chosen side says the finding is present ("yes", a named
 * value) and those saying absent ("no", "none") are capped to each other's count (never below
 * `floor`), keeping the first ones in their given (seeded, balanced) order.
 */
import { ABSENT_ANSWER, splitTarget } from '../../data/instructions/index.ts';
import type { PairCandidate } from '../types.ts';

type Side = 'present' | 'absent';

/** What the chosen answer says of its finding; null for tasks without one answer (lists, reports). */
export function chosenSide(p: PairCandidate): Side | null {
  const answer = splitTarget(p.chosen).answer.trim().toLowerCase();
  switch (p.provenance.task) {
    case 'closed':
      return answer === 'yes' ? 'present' : answer === 'no' ? 'absent' : null;
    case 'choice':
    case 'open':
      return answer === ABSENT_ANSWER ? 'absent' : 'present';
    default:
      return null;
  }
}

export function balanceChosenAnswers(pairs: readonly PairCandidate[], floor = 2): PairCandidate[] {
  const keyOf = (p: PairCandidate): string => `${p.provenance.finding ?? 'none'}|${p.provenance.task}`;
  const counts = new Map<string, Record<Side, number>>();
  for (const p of pairs) {
    const side = chosenSide(p);
    if (!side) continue;
    const c = counts.get(keyOf(p)) ?? { present: 0, absent: 0 };
    c[side]++;
    counts.set(keyOf(p), c);
  }
  const taken = new Map<string, Record<Side, number>>();
  return pairs.filter((p) => {
    const side = chosenSide(p);
    if (!side) return true;
    const c = counts.get(keyOf(p))!;
    const cap = Math.max(floor, side === 'present' ? c.absent : c.present);
    const t = taken.get(keyOf(p)) ?? { present: 0, absent: 0 };
    if (t[side] >= cap) return false;
    t[side]++;
    taken.set(keyOf(p), t);
    return true;
  });
}
