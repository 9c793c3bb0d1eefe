/** 95% case-bootstrap intervals of AUROC, several point sets (findings) resampled by the same cases. */
import { percentileInterval, replicates } from './bootstrap.ts';
import { auroc, type RiskPoint } from './risk-quality.ts';

/** A scored point and the case it came from (the resampling unit). */
export interface CasePoint extends RiskPoint {
  caseIndex: number;
}

export function aurocIntervals(
  pointSets: readonly (readonly CasePoint[])[],
  cases: number,
  resamples = 1000,
  seed = 1,
): [number, number][] {
  const draws = [...replicates(cases, resamples, seed)];
  return pointSets.map((points) =>
    percentileInterval(
      draws.map((counts) => auroc(points.flatMap((p) => Array<CasePoint>(counts[p.caseIndex]).fill(p)))),
      0.95,
    ),
  );
}
