/**
 * The promotion decision (ARCHITECTURE decision 7): promote only when the primary score's paired
 * interval lies above `minPrimaryGain`, and no safety metric is worse than the current version by
 * more than its margin. Every check is listed with its evidence, passed or not, so the run record
 * explains the decision.
 *
 * Safety evidence: 'point' (default) compares the point difference with the margin; 'interval'
 * compares the interval's worse end (a non-inferiority test). 'interval' is the stricter reading;
 * on a few hundred test cases the per-finding intervals are wider than any useful margin, so it
 * would refuse nearly every candidate — use it with large test splits.
 */
import type { Comparison, MetricDifference } from './compare.ts';

export interface SafetyMargins {
  /** Max allowed rise of the overall hallucination rate (absolute). */
  hallucination: number;
  /** Max allowed rise of the overall omission rate. */
  omission: number;
  /** Max allowed rise of the answer-confidence ECE. */
  ece: number;
  /** Max allowed fall of any finding's accuracy. */
  perFindingAccuracy: number;
  /** Max allowed rise of the POPE yes-ratio on adversarial negatives. */
  adversarialYesRatio: number;
}

export const DEFAULT_SAFETY_MARGINS: SafetyMargins = {
  hallucination: 0.01,
  omission: 0.02,
  ece: 0.02,
  perFindingAccuracy: 0.05,
  adversarialYesRatio: 0.02,
};

export interface GateOptions {
  /** The primary difference's interval lower bound must exceed this (default 0). */
  minPrimaryGain?: number;
  safetyMargins?: Partial<SafetyMargins>;
  safetyEvidence?: 'point' | 'interval';
  /** Per-finding accuracy checks need this many judgements on the current model (default 20). */
  minFindingSupport?: number;
}

export interface GateCheck {
  name: string;
  metric: string;
  passed: boolean;
  /** Whether the check could be made (false = not enough support or metric absent; never blocks). */
  applicable: boolean;
  evidence: string;
}

export interface GateDecision {
  promote: boolean;
  reasons: string[];
  checks: GateCheck[];
}

const f3 = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(3));
const signed = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

function describe(d: MetricDifference): string {
  return `${f3(d.current)} → ${f3(d.candidate)} (${signed(d.diff)} [${signed(d.lo)}, ${signed(d.hi)}])`;
}

/** How much worse the candidate is on a metric, by the chosen evidence (positive = worse). */
function harm(d: MetricDifference, evidence: 'point' | 'interval'): number {
  if (d.better === 'lower') return evidence === 'point' ? d.diff : d.hi;
  return evidence === 'point' ? -d.diff : -d.lo;
}

export function gateDecision(comparison: Comparison, options: GateOptions = {}): GateDecision {
  const minGain = options.minPrimaryGain ?? 0;
  const margins = { ...DEFAULT_SAFETY_MARGINS, ...options.safetyMargins };
  const evidence = options.safetyEvidence ?? 'point';
  const minSupport = options.minFindingSupport ?? 20;
  const checks: GateCheck[] = [];

  const primary = comparison.metrics.primary;
  if (!primary) {
    checks.push({
      name: 'primary gain',
      metric: 'primary',
      passed: false,
      applicable: false,
      evidence: 'primary score missing',
    });
  } else {
    const passed = primary.lo > minGain;
    checks.push({
      name: 'primary gain',
      metric: 'primary',
      passed,
      applicable: true,
      evidence: `${describe(primary)}; needs lower bound > ${f3(minGain)}; P(diff ≤ 0) = ${f3(primary.p_diff_le_0)}`,
    });
  }

  const safety = (name: string, metric: string, margin: number, support = 1): void => {
    const d = comparison.metrics[metric];
    if (!d || Number.isNaN(d.diff) || d.support < support) {
      const why = d ? `support ${d.support} < ${support}` : 'not measured';
      checks.push({ name, metric, passed: true, applicable: false, evidence: `skipped: ${why}` });
      return;
    }
    const h = harm(d, evidence);
    const passed = !(h > margin);
    const what = evidence === 'point' ? 'worsening' : 'worst-case worsening';
    checks.push({
      name,
      metric,
      passed,
      applicable: true,
      evidence: `${describe(d)}; ${what} ${f3(Math.max(0, h))} vs margin ${f3(margin)}`,
    });
  };
  safety('hallucination rate', 'hallucination.rate', margins.hallucination);
  safety('omission rate', 'omission.rate', margins.omission);
  safety('calibration (ECE)', 'ece', margins.ece);
  safety('adversarial yes-ratio', 'pope.adversarial_yes_ratio', margins.adversarialYesRatio);
  for (const metric of Object.keys(comparison.metrics).filter((m) => m.startsWith('finding_accuracy.'))) {
    safety(
      `accuracy of ${metric.slice('finding_accuracy.'.length)}`,
      metric,
      margins.perFindingAccuracy,
      minSupport,
    );
  }

  const promote = checks.every((c) => c.passed) && checks[0].applicable;
  const reasons = checks.map(
    (c) => `${c.applicable ? (c.passed ? 'PASS' : 'FAIL') : 'SKIP'} ${c.name}: ${c.evidence}`,
  );
  reasons.unshift(
    promote
      ? 'promote: every check passed'
      : `refuse: ${checks
          .filter((c) => !c.passed)
          .map((c) => c.name)
          .join(', ')}`,
  );
  return { promote, reasons, checks };
}
