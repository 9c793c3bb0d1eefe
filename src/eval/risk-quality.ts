/**
 * How well a served risk separates wrong answers from right ones, on answers with a binary score
 * (closed, choice, open): AUROC of risk for "wrong", and a reliability table of risk against the
 * observed wrong-rate (the diagram as numbers).
 */
import type { SampleScore } from './score.ts';

export interface RiskPoint {
  risk: number;
  wrong: boolean;
}

/** P(risk of a random wrong answer > risk of a random right one), ties counted half. */
export function auroc(points: readonly RiskPoint[]): number {
  const sorted = [...points].sort((a, b) => a.risk - b.risk);
  let rankSum = 0;
  let wrong = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j].risk === sorted[i].risk) j++;
    const rank = (i + 1 + j) / 2; // mean 1-based rank of the tie block
    for (let k = i; k < j; k++)
      if (sorted[k].wrong) {
        rankSum += rank;
        wrong++;
      }
    i = j;
  }
  const right = sorted.length - wrong;
  if (wrong === 0 || right === 0) return Number.NaN;
  return (rankSum - (wrong * (wrong + 1)) / 2) / (wrong * right);
}

export interface RiskBin {
  lo: number;
  hi: number;
  count: number;
  mean_risk: number;
  wrong_rate: number;
}

export function riskReliability(points: readonly RiskPoint[], bins = 10): RiskBin[] {
  return Array.from({ length: bins }, (_, b) => {
    const lo = b / bins;
    const hi = (b + 1) / bins;
    const inBin = points.filter((p) => (p.risk >= lo && p.risk < hi) || (b === bins - 1 && p.risk === 1));
    return {
      lo,
      hi,
      count: inBin.length,
      mean_risk: inBin.reduce((s, p) => s + p.risk, 0) / Math.max(1, inBin.length),
      wrong_rate: inBin.filter((p) => p.wrong).length / Math.max(1, inBin.length),
    };
  });
}

/** Risk points of scored answers whose task has a binary score. */
export function riskPoints(
  scores: readonly SampleScore[],
  riskOf: (sampleId: string) => number | undefined,
): RiskPoint[] {
  return scores
    .filter((s) => s.task === 'closed' || s.task === 'choice' || s.task === 'open')
    .flatMap((s) => {
      const risk = riskOf(s.sample_id);
      return risk === undefined ? [] : [{ risk, wrong: s.score < 1 }];
    });
}

export function formatRiskQuality(points: readonly RiskPoint[]): string {
  const rows = riskReliability(points).filter((b) => b.count > 0);
  return [
    `risk of closed, choice and open answers: AUROC for a wrong answer ${auroc(points).toFixed(3)} (n ${points.length})`,
    'risk        n      mean risk  wrong rate',
    ...rows.map(
      (b) =>
        `${b.lo.toFixed(1)}–${b.hi.toFixed(1)}  ${String(b.count).padEnd(5)}  ${b.mean_risk.toFixed(3)}      ${b.wrong_rate.toFixed(3)}`,
    ),
  ].join('\n');
}
