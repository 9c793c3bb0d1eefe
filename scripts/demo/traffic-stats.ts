/**
 * Before/after on the same held-out traffic: accuracy and mean risk of each version with 95% intervals,
 * and the paired difference, resampling patients (the questions of one patient share an image).
 */
import { percentileInterval, replicates } from '../../src/eval/index.ts';

export interface ScoredAnswer {
  caseId: string;
  status: number;
  correct: boolean;
  risk: number;
}

export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

export interface TrafficComparison {
  n: number;
  patients: number;
  accuracy: { before: Estimate; after: Estimate; diff: Estimate };
  meanRisk: { before: Estimate; after: Estimate; diff: Estimate };
}

interface Totals {
  asked: number;
  answered: number;
  correct: number;
  risk: number;
}

/** Per patient: questions asked, answered (status 200), correct, summed risk; a failure counts as wrong. */
function perPatient(answers: readonly ScoredAnswer[], index: Map<string, number>): Totals[] {
  const out = Array.from(index.keys(), () => ({ asked: 0, answered: 0, correct: 0, risk: 0 }));
  for (const a of answers) {
    const t = out[index.get(a.caseId)!];
    t.asked++;
    if (a.status !== 200) continue;
    t.answered++;
    if (a.correct) t.correct++;
    t.risk += a.risk;
  }
  return out;
}

function weighted(totals: readonly Totals[], counts: Uint32Array | null) {
  let asked = 0;
  let answered = 0;
  let correct = 0;
  let risk = 0;
  totals.forEach((t, i) => {
    const w = counts ? counts[i] : 1;
    asked += w * t.asked;
    answered += w * t.answered;
    correct += w * t.correct;
    risk += w * t.risk;
  });
  return { accuracy: correct / asked, meanRisk: risk / answered };
}

/** `before[i]` and `after[i]` answer the same question; intervals from `resamples` patient draws. */
export function compareTraffic(
  before: readonly ScoredAnswer[],
  after: readonly ScoredAnswer[],
  resamples = 2000,
  seed = 0,
): TrafficComparison {
  if (before.length !== after.length || before.some((b, i) => b.caseId !== after[i].caseId))
    throw new Error('compareTraffic needs the same questions, in the same order, before and after');
  const index = new Map<string, number>();
  for (const a of before) if (!index.has(a.caseId)) index.set(a.caseId, index.size);
  const [b, a] = [perPatient(before, index), perPatient(after, index)];
  const draws = { accB: [] as number[], accA: [] as number[], riskB: [] as number[], riskA: [] as number[] };
  for (const counts of replicates(index.size, resamples, seed)) {
    const [wb, wa] = [weighted(b, counts), weighted(a, counts)];
    draws.accB.push(wb.accuracy);
    draws.accA.push(wa.accuracy);
    draws.riskB.push(wb.meanRisk);
    draws.riskA.push(wa.meanRisk);
  }
  const [pb, pa] = [weighted(b, null), weighted(a, null)];
  const est = (value: number, xs: number[]): Estimate => {
    const [lo, hi] = percentileInterval(xs, 0.95);
    return { value, lo, hi };
  };
  const diff = (xa: number[], xb: number[]) => xa.map((x, i) => x - xb[i]);
  return {
    n: before.length,
    patients: index.size,
    accuracy: {
      before: est(pb.accuracy, draws.accB),
      after: est(pa.accuracy, draws.accA),
      diff: est(pa.accuracy - pb.accuracy, diff(draws.accA, draws.accB)),
    },
    meanRisk: {
      before: est(pb.meanRisk, draws.riskB),
      after: est(pa.meanRisk, draws.riskA),
      diff: est(pa.meanRisk - pb.meanRisk, diff(draws.riskA, draws.riskB)),
    },
  };
}
