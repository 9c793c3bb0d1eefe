/**
 * What is known to be present or absent per case. Phantom cases give exact labels; without them the
 * truth is read back from the samples' own references (closed answers, reference reports, lists),
 * which the synthesiser wrote from the same labels.
 */

import { CATALOGUE } from '../data/catalogue.ts';
import { popularFindings } from '../data/instructions/synthesize.ts';
import { labelReport } from '../data/labeler/index.ts';
import { expectedPrevalence } from '../data/phantom/config.ts';
import type { FindingKey, InstructionSample, LabelledCase } from '../data/types.ts';
import { FINDING_KEYS } from '../data/types.ts';
import { readFindings } from './answers.ts';

/** Known findings of one case: true = present, false = absent; a missing key is unknown. */
export type CaseTruth = ReadonlyMap<FindingKey, boolean>;
export type TruthIndex = ReadonlyMap<string, CaseTruth>;

export function truthFromCases(cases: readonly LabelledCase[]): TruthIndex {
  return new Map(cases.map((c) => [c.id, new Map(c.findings.map((f) => [f.name, f.present] as const))]));
}

/** Truth implied by reference answers; reports first (they state every known finding). */
export function truthFromSamples(samples: readonly InstructionSample[]): TruthIndex {
  const index = new Map<string, Map<FindingKey, boolean>>();
  const caseTruth = (id: string): Map<FindingKey, boolean> => {
    let t = index.get(id);
    if (!t) index.set(id, (t = new Map()));
    return t;
  };
  const order = (s: InstructionSample): number =>
    s.task === 'report' ? 0 : s.task === 'abnormality_list' ? 1 : 2;
  for (const s of [...samples].sort((a, b) => order(a) - order(b))) {
    const t = caseTruth(s.case_id);
    const learn = (key: FindingKey, present: boolean): void => {
      if (!t.has(key)) t.set(key, present);
    };
    if (s.task === 'report') {
      for (const [key, present] of referenceReportTruth(s.answer)) learn(key, present);
    } else if (s.task === 'abnormality_list') {
      const listed = readFindings(s.answer);
      for (const key of FINDING_KEYS) if (!CATALOGUE[key].device) learn(key, listed.has(key));
    } else if (s.task === 'closed' && s.finding) {
      learn(s.finding, s.answer === 'yes');
    } else if (s.finding && s.attribute !== 'ctr') {
      // Choice and open questions are only asked about present findings (the ratio question aside).
      learn(s.finding, true);
    }
  }
  return index;
}

/** Labels of a reference report: mentioned findings only; references never hedge. */
export function referenceReportTruth(report: string): Map<FindingKey, boolean> {
  const labels = labelReport(report);
  const truth = new Map<FindingKey, boolean>();
  for (const key of FINDING_KEYS) {
    if (labels[key] === 'not_mentioned') continue;
    truth.set(key, labels[key] !== 'negative');
  }
  return truth;
}

/** True when a and b are confusable or co-occurring, in either direction of the catalogue. */
export function related(a: FindingKey, b: FindingKey): boolean {
  const sa = CATALOGUE[a];
  const sb = CATALOGUE[b];
  return (
    sa.confusable.includes(b) ||
    sb.confusable.includes(a) ||
    sa.cooccurring.includes(b) ||
    sb.cooccurring.includes(a)
  );
}

/**
 * POPE's "adversarial" negatives: absent findings confusable with, or co-occurring with, a
 * finding present in the same case — where a model leaning on priors says "yes".
 */
export function isAdversarialNegative(truth: CaseTruth | undefined, finding: FindingKey): boolean {
  if (truth?.get(finding) !== false) return false;
  for (const [other, present] of truth) if (present && related(other, finding)) return true;
  return false;
}

/** POPE's "popular" negatives: the three most prevalent findings of the phantom generator. */
export const POPULAR_FINDINGS: ReadonlySet<FindingKey> = popularFindings(expectedPrevalence());
