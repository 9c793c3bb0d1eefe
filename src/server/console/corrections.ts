/**
 * A reviewer's correction in the form its task needs, and the one text it becomes (the feedback's
 * `correct_answer`).
 *
 * PHI rule: nothing a reviewer types is stored as typed. A closed answer is `yes` or `no`; a choice
 * is one of the options of the stored question; an open answer is a word of the finding catalogue
 * (or a size / ratio made of digits); a report is written by the project's report writer from
 * per-finding present/absent/side/severity. A report's free text is reduced by the report labeler
 * to catalogue findings (presence, side, severity), which fill what the structured form left open,
 * and is then dropped: not stored, not logged, only its length audited. So a name, a date or an id
 * typed in the box cannot reach the store.
 */
import {
  CATALOGUE,
  locationPhrase,
  severityWord,
  sizeWord,
  TIP_WORDS,
  ZONE_WORDS,
} from '../../data/catalogue.ts';
import { labelReportDetailed } from '../../data/labeler/index.ts';
import { Rng } from '../../data/random.ts';
import { writeReport } from '../../data/report/index.ts';
import {
  FINDING_KEYS,
  type Finding,
  type FindingKey,
  type Severity,
  type Side,
  type Zone,
} from '../../data/types.ts';
import { apiError } from '../errors.ts';

export const SIDES: readonly Side[] = ['left', 'right', 'bilateral'];
export const SEVERITIES: readonly Severity[] = ['mild', 'moderate', 'severe'];

/** Prefill of one finding of a report form: what the model's report says about it. */
export interface FindingState {
  key: FindingKey;
  state: 'present' | 'absent' | 'not_stated';
  side?: Side;
  severity?: Severity;
}

export type CorrectionForm =
  | { kind: 'yes_no' }
  | { kind: 'option'; options: string[] }
  | { kind: 'value'; values: string[] }
  | { kind: 'report'; findings: FindingState[] };

/** What the console sends with an `incorrect` verdict. */
export interface CorrectionInput {
  /** yes/no, the option, or the catalogue value. */
  answer?: string;
  /** A report's findings; findings left out are not stated. */
  findings?: { key: FindingKey; present: boolean; side?: Side; severity?: Severity }[];
  /** A report's free text: reduced to catalogue findings, never stored. */
  free_text?: string;
}

/** The finding catalogue as the report form shows it. */
export function catalogueForForms() {
  return FINDING_KEYS.map((key) => {
    const spec = CATALOGUE[key];
    return {
      key,
      display: spec.display,
      sides: spec.attributes.includes('side') ? SIDES : null,
      severities: spec.attributes.includes('severity')
        ? SEVERITIES.map((value) => ({ value, word: severityWord(key, value) ?? value }))
        : null,
    };
  });
}

/** Every word an open answer may be: names, sides, locations, grades, tip positions, `none`. */
export const VALUE_WORDS: readonly string[] = (() => {
  const words = new Set<string>(['none']);
  for (const key of FINDING_KEYS) {
    words.add(CATALOGUE[key].display);
    for (const s of SEVERITIES) {
      const w = severityWord(key, s);
      if (w) words.add(w);
    }
  }
  for (const side of [...SIDES, undefined]) {
    if (side) words.add(side);
    for (const zone of [...(Object.keys(ZONE_WORDS) as Zone[]), undefined]) {
      const phrase = locationPhrase(side, zone);
      if (phrase) words.add(phrase);
    }
  }
  for (const w of Object.values(TIP_WORDS)) words.add(w);
  return [...words].sort();
})();

/** Sizes ("12 mm") and cardiothoracic ratios ("0.55"): digits only, so no identifier fits. */
const MEASURE = /^(?:\d{1,3} mm|0\.\d{2})$/;

/** "…: left or right?" (how the server appends options) or "…, left or right?": the options. */
export function optionsOf(question: string): string[] {
  const tail = /[:,]\s*([^:,?]+(?:,\s*[^:,?]+)*\s+or\s+[^:,?]+)\?\s*$/i.exec(question)?.[1];
  if (!tail) return [];
  return tail
    .split(/,\s*|\s+or\s+/i)
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
}

/** Findings a report states, as the labeler reads them (uncertain mentions state nothing). */
function statedFindings(text: string): Map<FindingKey, FindingState> {
  const { labels, attributes } = labelReportDetailed(text);
  const stated = new Map<FindingKey, FindingState>();
  for (const key of FINDING_KEYS) {
    if (labels[key] !== 'positive' && labels[key] !== 'negative') continue;
    const a = attributes[key] ?? {};
    stated.set(key, {
      key,
      state: labels[key] === 'positive' ? 'present' : 'absent',
      ...(labels[key] === 'positive' && a.side ? { side: a.side } : {}),
      ...(labels[key] === 'positive' && a.severity ? { severity: a.severity } : {}),
    });
  }
  return stated;
}

/** The form of a stored answer's task, prefilled where the task allows. */
export function correctionForm(task: string, question: string, answer: string): CorrectionForm {
  if (task === 'report') {
    const stated = statedFindings(answer);
    return {
      kind: 'report',
      findings: FINDING_KEYS.map((key) => stated.get(key) ?? { key, state: 'not_stated' }),
    };
  }
  if (task === 'closed') return { kind: 'yes_no' };
  const options = optionsOf(question);
  if (options.length >= 2) return { kind: 'option', options };
  return { kind: 'value', values: [...VALUE_WORDS] };
}

const invalid = (field: string, message: string) =>
  apiError('INVALID_REQUEST', `${field} ${message}`, { details: [{ field, message }] });

function reportFindings(input: CorrectionInput): Finding[] {
  const chosen = new Map<FindingKey, Finding>();
  for (const [i, f] of (input.findings ?? []).entries()) {
    const spec = CATALOGUE[f.key];
    if (chosen.has(f.key)) throw invalid(`/correction/findings/${i}`, `repeats ${f.key}`);
    const finding: Finding = { name: f.key, present: f.present };
    if (f.present && f.side && spec.attributes.includes('side')) finding.side = f.side;
    if (f.present && f.severity && spec.attributes.includes('severity')) finding.severity = f.severity;
    chosen.set(f.key, finding);
  }
  // The free text fills only what the structured form left out; the text itself goes no further.
  for (const [key, stated] of statedFindings(input.free_text ?? '')) {
    if (chosen.has(key)) continue;
    chosen.set(key, {
      name: key,
      present: stated.state === 'present',
      ...(stated.side ? { side: stated.side } : {}),
      ...(stated.severity ? { severity: stated.severity } : {}),
    });
  }
  return [...chosen.values()];
}

/**
 * The `correct_answer` a correction stands for, checked against its form; INVALID_REQUEST when it
 * does not fit (an answer outside the options, a report naming no finding).
 */
export function correctAnswer(form: CorrectionForm, input: CorrectionInput): string {
  const answer = input.answer?.trim().toLowerCase();
  switch (form.kind) {
    case 'yes_no':
      if (answer !== 'yes' && answer !== 'no') throw invalid('/correction/answer', 'must be yes or no');
      return answer;
    case 'option': {
      const option = form.options.find((o) => o.toLowerCase() === answer);
      if (!option) throw invalid('/correction/answer', `must be one of: ${form.options.join(', ')}`);
      return option;
    }
    case 'value':
      if (answer === undefined || !(form.values.includes(answer) || MEASURE.test(answer))) {
        throw invalid(
          '/correction/answer',
          'must be a finding-catalogue word, a size (12 mm) or a ratio (0.55)',
        );
      }
      return MEASURE.test(answer) && answer.endsWith('mm') ? sizeWord(Number.parseInt(answer, 10)) : answer;
    case 'report': {
      const findings = reportFindings(input);
      if (findings.length === 0) {
        throw invalid('/correction/findings', 'must state at least one finding (present or absent)');
      }
      // A fixed seed: the same findings always give the same report text.
      return writeReport({ id: 'review', findings }, new Rng(0)).text;
    }
  }
}
