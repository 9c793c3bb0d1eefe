/**
 * Radiology reports written from labels: a FINDINGS section with one sentence per known finding
 * (present or explicitly negative) and an IMPRESSION with one sentence per positive finding.
 * One finding per sentence is a contract: the server scores each finding sentence's confidence
 * and `reportFindingSentences` maps sentences back to finding keys.
 */
import { CATALOGUE, capitalize, findingPhrase, presentSign } from '../catalogue.ts';
import type { Rng } from '../random.ts';
import type { Finding, FindingKey, LabelledCase } from '../types.ts';
import { FINDING_KEYS } from '../types.ts';

export interface WrittenReport {
  findings: string;
  impression: string;
  /** "FINDINGS: …\nIMPRESSION: …" */
  text: string;
}

/** Reading order of the findings section: devices, lungs, pleura, heart, bones. */
export const REPORT_ORDER: readonly FindingKey[] = [
  'endotracheal_tube',
  'central_line',
  'consolidation',
  'lung_opacity',
  'atelectasis',
  'nodule',
  'mass',
  'edema',
  'pleural_effusion',
  'pneumothorax',
  'cardiomegaly',
  'rib_fracture',
];

/** Impression order: most urgent first. */
export const IMPRESSION_ORDER: readonly FindingKey[] = [
  'pneumothorax',
  'endotracheal_tube',
  'central_line',
  'consolidation',
  'mass',
  'pleural_effusion',
  'edema',
  'lung_opacity',
  'atelectasis',
  'nodule',
  'cardiomegaly',
  'rib_fracture',
];

export const NORMAL_IMPRESSION = 'No acute cardiopulmonary abnormality.';
/** Used when some findings are unknown (imported labels), so "normal" would claim too much. */
export const NO_POSITIVE_IMPRESSION = 'No acute abnormality identified.';

const MASS_NOUNS = new Set<FindingKey>(['cardiomegaly', 'consolidation', 'atelectasis', 'edema']);

/** Indefinite noun phrase: "a small right pleural effusion", "moderate cardiomegaly", "small bilateral pleural effusions". */
export function indefinitePhrase(f: Finding): string {
  const phrase = findingPhrase(f);
  if (MASS_NOUNS.has(f.name) || f.side === 'bilateral') return phrase;
  return `${/^[aeiou]/.test(phrase) ? 'an' : 'a'} ${phrase}`;
}

/** Display name with its article, for questions: "a pleural effusion", "cardiomegaly", "an endotracheal tube". */
export function indefiniteDisplay(key: FindingKey): string {
  const display = CATALOGUE[key].display;
  if (MASS_NOUNS.has(key)) return display;
  return `${/^[aeiou]/.test(display) ? 'an' : 'a'} ${display}`;
}

/** "There is a small right pleural effusion" / "There are small bilateral pleural effusions". */
export function existential(f: Finding): string {
  const plural = f.side === 'bilateral' && !MASS_NOUNS.has(f.name);
  return `there ${plural ? 'are' : 'is'} ${indefinitePhrase(f)}`;
}

type Phrasing = (f: Finding, ctr: number | undefined) => string;

const PRESENT_PHRASINGS: Phrasing[] = [
  (f) => `${existential(f)}.`,
  (f, ctr) => `${existential(f)}, with ${presentSign(f, ctr)}.`,
  (f) => `${findingPhrase(f)} is noted.`,
  (f, ctr) => `${findingPhrase(f)}, with ${presentSign(f, ctr, 1)}.`,
];

const ABSENT_PHRASINGS: ((display: string) => string)[] = [
  (d) => `no ${d}.`,
  (d) => `there is no ${d}.`,
  (d) => `no evidence of ${d}.`,
  (d) => `${d} is not seen.`,
];

const ABSENT_SPECIAL: Partial<Record<FindingKey, string[]>> = {
  cardiomegaly: [
    'the cardiomediastinal silhouette is within normal limits.',
    'heart size is normal.',
    'normal heart size.',
  ],
  pleural_effusion: ['no pleural effusion; the costophrenic angles are sharp.'],
};

function presentSentence(f: Finding, ctr: number | undefined, rng: Rng): string {
  return capitalize(rng.pick(PRESENT_PHRASINGS)(f, ctr));
}

function absentSentence(key: FindingKey, rng: Rng): string {
  const special = ABSENT_SPECIAL[key] ?? [];
  const generic = ABSENT_PHRASINGS.map((p) => p(CATALOGUE[key].display));
  return capitalize(rng.pick([...generic, ...special]));
}

/** True when every non-device finding has a label, so a normal impression is a justified claim. */
export function isCompleteForPathology(c: LabelledCase): boolean {
  const known = new Set(c.findings.map((f) => f.name));
  return FINDING_KEYS.every((k) => CATALOGUE[k].device || known.has(k));
}

export function writeReport(c: LabelledCase, rng: Rng): WrittenReport {
  const byKey = new Map(c.findings.map((f) => [f.name, f] as const));
  const findingSentences: string[] = [];
  for (const key of REPORT_ORDER) {
    const f = byKey.get(key);
    if (!f) continue;
    findingSentences.push(f.present ? presentSentence(f, c.ctr, rng) : absentSentence(key, rng));
  }
  const positives = IMPRESSION_ORDER.map((k) => byKey.get(k)).filter((f): f is Finding => !!f?.present);
  const impressionSentences = positives.map((f) => `${capitalize(findingPhrase(f))}.`);
  if (positives.every((f) => CATALOGUE[f.name].device)) {
    impressionSentences.push(isCompleteForPathology(c) ? NORMAL_IMPRESSION : NO_POSITIVE_IMPRESSION);
  }
  const findings = findingSentences.join(' ');
  const impression = impressionSentences.join(' ');
  return { findings, impression, text: `FINDINGS: ${findings}\nIMPRESSION: ${impression}` };
}
