/**
 * Yes/no balance of closed-question pairs. DPO moves the answer prior toward whatever the chosen
 * sides say most: on v0001, 200 pairs of which 58% chose "no" took the model's "yes" share on
 * held-out questions from 0.45 to 0.10 (measured, see the DPO defaults). So within each finding the
 * pairs choosing "yes" and those choosing "no" are capped to each other's count (never below
 * `floor`), keeping the first ones in their given (seeded, balanced) order.
 */
import { splitTarget } from '../data/instructions/index.ts';
import type { PairCandidate } from './types.ts';

function chosenYesNo(p: PairCandidate): 'yes' | 'no' | null {
  if (p.provenance.task !== 'closed') return null;
  const answer = splitTarget(p.chosen).answer.toLowerCase();
  return answer === 'yes' || answer === 'no' ? answer : null;
}

export function balanceChosenAnswers(pairs: readonly PairCandidate[], floor = 2): PairCandidate[] {
  const counts = new Map<string, { yes: number; no: number }>();
  for (const p of pairs) {
    const a = chosenYesNo(p);
    if (!a) continue;
    const key = p.provenance.finding ?? 'none';
    const c = counts.get(key) ?? { yes: 0, no: 0 };
    c[a]++;
    counts.set(key, c);
  }
  const taken = new Map<string, { yes: number; no: number }>();
  return pairs.filter((p) => {
    const a = chosenYesNo(p);
    if (!a) return true;
    const key = p.provenance.finding ?? 'none';
    const c = counts.get(key)!;
    const cap = Math.max(floor, a === 'yes' ? c.no : c.yes);
    const t = taken.get(key) ?? { yes: 0, no: 0 };
    if (t[a] >= cap) return false;
    t[a]++;
    taken.set(key, t);
    return true;
  });
}
