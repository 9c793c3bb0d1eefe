/**
 * Report counterfactuals by sentence surgery. The writer's contract is one FINDINGS sentence per
 * known finding in REPORT_ORDER, and an IMPRESSION that follows from the labels alone; so a wrong
 * report keeps every sentence of the reference except those of the findings the claim changes,
 * which are written by the same writer for the changed finding. The pair then differs only where
 * the error is.
 */
import { Rng } from '../../data/random.ts';
import { REPORT_ORDER, splitSentences, writeReport } from '../../data/report/index.ts';
import type { Finding, FindingKey, LabelledCase } from '../../data/types.ts';

const FINDINGS_HEADER = 'FINDINGS: ';
const IMPRESSION_HEADER = '\nIMPRESSION: ';

export function sameFinding(a: Finding | undefined, b: Finding | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.present === b.present &&
    a.side === b.side &&
    a.zone === b.zone &&
    a.severity === b.severity &&
    a.size_mm === b.size_mm &&
    a.tip === b.tip
  );
}

/** Reference FINDINGS sentences by finding key, or undefined when the text is not the writer's. */
export function findingsSentences(report: string, c: LabelledCase): Map<FindingKey, string> | undefined {
  const cut = report.indexOf(IMPRESSION_HEADER);
  if (!report.startsWith(FINDINGS_HEADER) || cut < 0) return undefined;
  const sentences = splitSentences(report.slice(FINDINGS_HEADER.length, cut)).map((s) => s.text);
  const known = new Set(c.findings.map((f) => f.name));
  const keys = REPORT_ORDER.filter((k) => known.has(k));
  if (keys.length !== sentences.length) return undefined;
  return new Map(keys.map((k, i) => [k, sentences[i]]));
}

/** The writer's FINDINGS sentence for one finding (a one-finding report's findings section). */
function sentenceFor(f: Finding, ctr: number | undefined, rng: Rng): string {
  return writeReport({ id: 'sentence', findings: [f], ctr }, rng).findings;
}

/** `report` (written for `truth`) rewritten for `claim`; undefined when it is not the writer's text. */
export function rewriteReport(
  report: string,
  truth: LabelledCase,
  claim: LabelledCase,
  rng: Rng,
): string | undefined {
  const kept = findingsSentences(report, truth);
  if (!kept) return undefined;
  const byKey = new Map(claim.findings.map((f) => [f.name, f] as const));
  const sentences: string[] = [];
  for (const key of REPORT_ORDER) {
    const f = byKey.get(key);
    if (!f) continue;
    const original = truth.findings.find((g) => g.name === key);
    const keep = sameFinding(original, f) && kept.has(key);
    sentences.push(keep ? kept.get(key)! : sentenceFor(f, claim.ctr, rng));
  }
  // The impression depends on the labels only; the writer's random draws go to the findings section.
  const impression = writeReport(claim, new Rng(0)).impression;
  return `${FINDINGS_HEADER}${sentences.join(' ')}${IMPRESSION_HEADER}${impression}`;
}
