/**
 * Readers of short answers: each turns free model wording into the canonical value it names, so
 * "Small.", "a small one" and "mild" all read as severity `mild`. Readers return undefined when
 * the answer names no value; a missing value is scored wrong, never guessed.
 */
import { CATALOGUE, ctrWord } from '../data/catalogue.ts';
import { labelReport } from '../data/labeler/index.ts';
import type { FindingKey, Severity, Side, TipPosition, Zone } from '../data/types.ts';
import { FINDING_KEYS } from '../data/types.ts';

const ARTICLES = new Set(['a', 'an', 'the']);

/** Lower case, punctuation to spaces (a decimal point stays), articles dropped, spaces collapsed. */
export function normalizeAnswer(text: string): string {
  const words = text.toLowerCase().match(/[a-z]+|\d+(?:\.\d+)?/g) ?? [];
  return words.filter((w) => !ARTICLES.has(w)).join(' ');
}

function words(text: string): string[] {
  return normalizeAnswer(text).split(' ').filter(Boolean);
}

export type YesNo = 'yes' | 'no';

/** The first word decides, as in the target format ("yes. There is …"). */
export function readYesNo(answer: string): YesNo | undefined {
  const first = words(answer)[0];
  return first === 'yes' || first === 'no' ? first : undefined;
}

/** Severity words of every finding plus common synonyms; a finding's own words take priority. */
const GENERIC_SEVERITY: Record<string, Severity> = {
  mild: 'mild',
  small: 'mild',
  minimal: 'mild',
  slight: 'mild',
  trace: 'mild',
  tiny: 'mild',
  faint: 'mild',
  patchy: 'mild',
  moderate: 'moderate',
  medium: 'moderate',
  severe: 'severe',
  large: 'severe',
  marked: 'severe',
  extensive: 'severe',
  dense: 'severe',
  massive: 'severe',
};

export function readSeverity(answer: string, finding?: FindingKey): Severity | undefined {
  const own = new Map<string, Severity>(
    Object.entries(finding ? (CATALOGUE[finding].severityWords ?? {}) : {}).map(([s, w]) => [
      w,
      s as Severity,
    ]),
  );
  for (const w of words(answer)) {
    const sev = own.get(w) ?? GENERIC_SEVERITY[w];
    if (sev) return sev;
  }
  return undefined;
}

export interface Location {
  side?: Side;
  zone?: Zone;
}

const SIDE_WORDS: Record<string, Side> = {
  left: 'left',
  right: 'right',
  bilateral: 'bilateral',
  both: 'bilateral',
  hemithoraces: 'bilateral',
  zones: 'bilateral',
};
const ZONE_WORDS: Record<string, Zone> = {
  upper: 'upper',
  apex: 'upper',
  apical: 'upper',
  middle: 'middle',
  mid: 'middle',
  lower: 'lower',
  base: 'lower',
  basal: 'lower',
};

/**
 * "right lower zone", "lower zones" (plural = both sides, as `locationPhrase` writes it), "left
 * hemithorax". An explicit side word wins over the plural.
 */
export function readLocation(answer: string): Location {
  const out: Location = {};
  let pluralSide: Side | undefined;
  for (const w of words(answer)) {
    const side = SIDE_WORDS[w];
    if (side && w !== 'zones' && w !== 'hemithoraces') out.side ??= side;
    else if (side) pluralSide = side;
    const zone = ZONE_WORDS[w];
    if (zone) out.zone ??= zone;
  }
  if (out.side === undefined && pluralSide) out.side = pluralSide;
  return out;
}

/** Millimetres from "12 mm", "1.2 cm", "12" (a bare number is read as mm, the answer unit). */
export function readSizeMm(answer: string): number | undefined {
  const m = /(\d+(?:\.\d+)?)\s*(mm|millimet\w*|cm|centimet\w*)?/.exec(answer.toLowerCase());
  if (!m) return undefined;
  const value = Number(m[1]);
  return m[2]?.startsWith('c') ? value * 10 : value;
}

/**
 * Size tolerance bucket: a size answer is right within max(2 mm, 20 %) of the truth — about the
 * inter-reader spread of manual nodule measurement, and the answer vocabulary is whole millimetres.
 */
export const SIZE_TOLERANCE = { absoluteMm: 2, relative: 0.2 } as const;

export function sizeMatches(predictedMm: number, trueMm: number): boolean {
  return (
    Math.abs(predictedMm - trueMm) <= Math.max(SIZE_TOLERANCE.absoluteMm, SIZE_TOLERANCE.relative * trueMm)
  );
}

export function readTip(answer: string): TipPosition | undefined {
  const ws = words(answer);
  if (ws.includes('low') || ws.includes('deep')) return 'too_low';
  if (ws.includes('high') || ws.includes('shallow')) return 'too_high';
  if (ws.some((w) => ['appropriate', 'satisfactory', 'correct', 'good', 'adequate', 'standard'].includes(w)))
    return 'appropriate';
  return undefined;
}

/** The ratio's 0.05 bucket as `ctrWord` writes it; "55 %" reads as 0.55. */
export function readCtrBucket(answer: string): string | undefined {
  const m = /(\d+(?:\.\d+)?)/.exec(answer);
  if (!m) return undefined;
  let value = Number(m[1]);
  if (value > 1 && value <= 100) value /= 100;
  return value > 0 && value <= 1 ? ctrWord(value) : undefined;
}

/** Findings a short text asserts (positive or uncertain to the labeler), e.g. a listed abnormality. */
export function readFindings(text: string): Set<FindingKey> {
  const labels = labelReport(text);
  return new Set(FINDING_KEYS.filter((k) => labels[k] === 'positive' || labels[k] === 'uncertain'));
}

/**
 * Which offered option an answer picks: the exact option after normalisation, else the one option
 * whose words occur in the answer. Answers naming both or neither pick nothing.
 */
export function readChoice(answer: string, options: readonly string[]): string | undefined {
  const said = normalizeAnswer(answer);
  const exact = options.find((o) => normalizeAnswer(o) === said);
  if (exact !== undefined) return exact;
  const padded = ` ${said} `;
  const named = options.filter((o) => padded.includes(` ${normalizeAnswer(o)} `));
  return named.length === 1 ? named[0] : undefined;
}
