/**
 * Multi-task instruction samples per case, after CheXPO's unified fine-grained dataset: closed
 * (yes/no presence, balanced, with hard negatives), choice (A or B), open (attribute questions),
 * abnormality listing and report generation, each with a case-specific rationale.
 *
 * Findings missing from `c.findings` are unknown and never asked about. Findings that are present
 * but carry no attributes (imported labels) get presence questions only.
 */
import { attributeWords, CATALOGUE, ctrWord, hasAttributes, severityWord, TIP_WORDS } from '../catalogue.ts';
import { expectedPrevalence } from '../phantom/config.ts';
import type { Rng } from '../random.ts';
import { IMPRESSION_ORDER, indefiniteDisplay, isCompleteForPathology, writeReport } from '../report/write.ts';
import type {
  Finding,
  FindingKey,
  InstructionSample,
  LabelledCase,
  NegativeKind,
  Severity,
  TaskType,
  TipPosition,
} from '../types.ts';
import { FINDING_KEYS } from '../types.ts';
import {
  absenceRationale,
  choiceFindingRationale,
  ctrRationale,
  listRationale,
  presenceRationale,
} from './rationale.ts';
import { formatTarget } from './target.ts';
import { fill, type QuestionType, TEMPLATES } from './templates.ts';

export interface SynthesizeOptions {
  /** Samples per case per task (upper bounds; a case may offer fewer). */
  perTask?: Partial<Record<TaskType, number>>;
  /**
   * Marginal prevalence per finding. Closed questions are asked with rates that make P(yes) = 0.5 per
   * finding in expectation (every positive of a rare finding, as many negatives), so the wording carries
   * no answer; `balanceByPrompt` then makes it exact per split. Default: the phantom generator's.
   */
  prevalence?: Record<FindingKey, number>;
}

/** The short answer of a choice or open question about a finding the image does not show. */
export const ABSENT_ANSWER = 'none';

export const DEFAULT_PER_TASK: Record<TaskType, number> = {
  closed: 4,
  choice: 2,
  open: 3,
  abnormality_list: 1,
  report: 1,
};

/** A question before it gets an id: everything but the ids and target text. */
interface Draft {
  task: TaskType;
  type: QuestionType;
  values: Record<string, string>;
  answer: string;
  rationale: string;
  finding?: FindingKey;
  attribute?: string;
  options?: string[];
  negative?: NegativeKind;
}

type Builder = (rng: Rng) => Draft;

const SEVERITIES: Severity[] = ['mild', 'moderate', 'severe'];
const TIPS: TipPosition[] = ['appropriate', 'too_low', 'too_high'];

/** Options in a random order, the correct one among them. */
function twoOptions(correct: string, other: string, rng: Rng): [string, string] {
  return rng.bool(0.5) ? [correct, other] : [other, correct];
}

function closedBuilder(f: Finding, c: LabelledCase, negative?: NegativeKind): Builder {
  const spec = CATALOGUE[f.name];
  return (rng) => ({
    ...(negative ? { negative } : {}),
    task: 'closed',
    type: 'closed',
    values: { finding: indefiniteDisplay(f.name), name: spec.display },
    answer: f.present ? 'yes' : 'no',
    rationale: f.present ? presenceRationale(f, c, rng) : absenceRationale(f.name, c, rng),
    finding: f.name,
    attribute: 'presence',
  });
}

function related(a: FindingKey, b: FindingKey): { confusable: boolean; cooccurring: boolean } {
  const sa = CATALOGUE[a];
  const sb = CATALOGUE[b];
  return {
    confusable: sa.confusable.includes(b) || sb.confusable.includes(a),
    cooccurring: sa.cooccurring.includes(b) || sb.cooccurring.includes(a),
  };
}

/** The three most prevalent findings: POPE's "popular" negatives. */
export function popularFindings(prevalence: Record<FindingKey, number>): Set<FindingKey> {
  return new Set([...FINDING_KEYS].sort((a, b) => prevalence[b] - prevalence[a]).slice(0, 3));
}

/** POPE's negative samplings: adversarial (related to a present finding), popular, random. */
function negativeKind(f: Finding, c: LabelledCase, popular: Set<FindingKey>): NegativeKind {
  const present = c.findings.filter((p) => p.present);
  if (present.some((p) => related(p.name, f.name).confusable || related(p.name, f.name).cooccurring))
    return 'adversarial';
  return popular.has(f.name) ? 'popular' : 'random';
}

/**
 * Closed questions: each known finding is asked with a rate that balances yes and no for that finding
 * (a finding of prevalence p: positives at min(1, (1−p)/p), negatives at min(1, p/(1−p))), so asking
 * about a finding says nothing about its answer. Negatives are tagged with their POPE sampling.
 */
function closedDrafts(c: LabelledCase, prevalence: Record<FindingKey, number>, rng: Rng): Draft[] {
  const popular = popularFindings(prevalence);
  const drafts: Draft[] = [];
  for (const f of c.findings) {
    const p = Math.min(0.99, Math.max(0.01, prevalence[f.name]));
    const rate = f.present ? Math.min(1, (1 - p) / p) : Math.min(1, p / (1 - p));
    if (!rng.bool(rate)) continue;
    drafts.push(closedBuilder(f, c, f.present ? undefined : negativeKind(f, c, popular))(rng));
  }
  return rng.shuffle(drafts);
}

/** Two of `values` in random order. */
function anyTwo(values: readonly string[], rng: Rng): [string, string] {
  const [a, b] = rng.shuffle([...values]);
  return [a, b];
}

/**
 * Choice questions about an absent finding ("Is the pneumothorax left or right?" on a film without
 * one): the answer is "none", so offering options says nothing about presence.
 */
function absentChoiceBuilders(c: LabelledCase): Builder[] {
  const builders: Builder[] = [];
  const known = new Map(c.findings.map((f) => [f.name, f] as const));
  for (const f of c.findings) {
    if (f.present) continue;
    const spec = CATALOGUE[f.name];
    const name = spec.display;
    const absent =
      (type: QuestionType, attribute: string, options: [string, string], values = {}): Builder =>
      (rng) => ({
        task: 'choice',
        type,
        values: { name, o1: options[0], o2: options[1], ...values },
        answer: ABSENT_ANSWER,
        rationale: absenceRationale(f.name, c, rng),
        finding: f.name,
        attribute,
        options,
      });
    if (spec.attributes.includes('side') && !spec.device)
      builders.push((rng) => absent('choice_side', 'side', anyTwo(['left', 'right', 'bilateral'], rng))(rng));
    if (spec.attributes.includes('severity') && spec.severityWords)
      builders.push((rng) =>
        absent(
          'choice_severity',
          'severity',
          anyTwo(
            SEVERITIES.map((s) => severityWord(f.name, s)!),
            rng,
          ),
        )(rng),
      );
    if (spec.attributes.includes('tip'))
      builders.push((rng) =>
        absent(
          'choice_tip',
          'tip',
          anyTwo(
            TIPS.map((t) => TIP_WORDS[t]),
            rng,
          ),
        )(rng),
      );
    for (const alt of spec.confusable) {
      if (known.get(alt)?.present !== false || CATALOGUE[alt].device) continue;
      builders.push((rng) => {
        const options = twoOptions(name, CATALOGUE[alt].display, rng);
        const article = (d: string): string => indefiniteDisplay(d === name ? f.name : alt);
        return absent('choice_finding', 'finding', options, {
          a1: article(options[0]),
          a2: article(options[1]),
        })(rng);
      });
    }
  }
  return builders;
}

function choiceBuilders(c: LabelledCase): Builder[] {
  const builders: Builder[] = [];
  const known = new Map(c.findings.map((f) => [f.name, f] as const));
  for (const f of c.findings) {
    if (!f.present || !hasAttributes(f)) continue;
    const spec = CATALOGUE[f.name];
    const name = spec.display;
    if (f.side && spec.attributes.includes('side') && !spec.device) {
      const side = f.side;
      builders.push((rng) => {
        const other = rng.pick((['left', 'right', 'bilateral'] as const).filter((x) => x !== side));
        const options = twoOptions(side, other, rng);
        return {
          task: 'choice',
          type: 'choice_side',
          values: { name, o1: options[0], o2: options[1] },
          answer: side,
          rationale: presenceRationale(f, c, rng),
          finding: f.name,
          attribute: 'side',
          options,
        };
      });
    }
    if (f.severity && spec.severityWords) {
      const severity = f.severity;
      builders.push((rng) => {
        const other = rng.pick(SEVERITIES.filter((s) => s !== severity));
        const options = twoOptions(severityWord(f.name, severity)!, severityWord(f.name, other)!, rng);
        return {
          task: 'choice',
          type: 'choice_severity',
          values: { name, o1: options[0], o2: options[1] },
          answer: severityWord(f.name, severity)!,
          rationale: presenceRationale(f, c, rng),
          finding: f.name,
          attribute: 'severity',
          options,
        };
      });
    }
    if (f.tip && spec.attributes.includes('tip')) {
      const tip = f.tip;
      builders.push((rng) => {
        const options = twoOptions(TIP_WORDS[tip], TIP_WORDS[rng.pick(TIPS.filter((t) => t !== tip))], rng);
        return {
          task: 'choice',
          type: 'choice_tip',
          values: { name, o1: options[0], o2: options[1] },
          answer: TIP_WORDS[tip],
          rationale: presenceRationale(f, c, rng),
          finding: f.name,
          attribute: 'tip',
          options,
        };
      });
    }
    for (const alt of spec.confusable) {
      if (known.get(alt)?.present !== false || CATALOGUE[alt].device) continue;
      builders.push((rng) => {
        const options = twoOptions(name, CATALOGUE[alt].display, rng);
        const article = (d: string): string => indefiniteDisplay(d === name ? f.name : alt);
        return {
          task: 'choice',
          type: 'choice_finding',
          values: { o1: options[0], o2: options[1], a1: article(options[0]), a2: article(options[1]) },
          answer: name,
          rationale: choiceFindingRationale(f, alt, c, rng),
          finding: f.name,
          attribute: 'finding',
          options,
        };
      });
    }
  }
  return builders;
}

/** Open attribute questions about an absent finding, answered "none". */
function absentOpenBuilders(c: LabelledCase): Builder[] {
  const builders: Builder[] = [];
  for (const f of c.findings) {
    if (f.present) continue;
    const spec = CATALOGUE[f.name];
    const name = spec.display;
    const absent =
      (type: QuestionType, attribute: string): Builder =>
      (rng) => ({
        task: 'open',
        type,
        values: { name },
        answer: ABSENT_ANSWER,
        rationale: absenceRationale(f.name, c, rng),
        finding: f.name,
        attribute,
      });
    if (spec.attributes.includes('side') && !spec.device) builders.push(absent('open_location', 'location'));
    if (spec.attributes.includes('severity')) builders.push(absent('open_severity', 'severity'));
    if (spec.attributes.includes('size_mm')) builders.push(absent('open_size', 'size'));
    if (spec.attributes.includes('tip')) builders.push(absent('open_tip', 'tip'));
  }
  return builders;
}

function openBuilders(c: LabelledCase): Builder[] {
  const builders: Builder[] = [];
  const positives = c.findings.filter((f) => f.present);
  const lungFindings = positives.filter((f) => !CATALOGUE[f.name].device && f.name !== 'cardiomegaly');
  for (const f of positives) {
    if (!hasAttributes(f)) continue;
    const spec = CATALOGUE[f.name];
    const name = spec.display;
    const w = attributeWords(f, c.ctr);
    const base = { task: 'open' as const, finding: f.name };
    if (w.location && !spec.device) {
      const location = w.location;
      builders.push((rng) => ({
        ...base,
        type: 'open_location',
        values: { name },
        answer: location,
        rationale: presenceRationale(f, c, rng),
        attribute: 'location',
      }));
      if (lungFindings.length === 1 && isCompleteForPathology(c)) {
        builders.push((rng) => ({
          ...base,
          type: 'open_type',
          values: { location },
          answer: name,
          rationale: presenceRationale(f, c, rng),
          attribute: 'type',
        }));
      }
    }
    if (w.severity) {
      const severity = w.severity;
      builders.push((rng) => ({
        ...base,
        type: 'open_severity',
        values: { name },
        answer: severity,
        rationale: presenceRationale(f, c, rng),
        attribute: 'severity',
      }));
    }
    if (w.size) {
      const size = w.size;
      builders.push((rng) => ({
        ...base,
        type: 'open_size',
        values: { name },
        answer: size,
        rationale: presenceRationale(f, c, rng),
        attribute: 'size',
      }));
    }
    if (f.tip && spec.attributes.includes('tip')) {
      const tip = TIP_WORDS[f.tip];
      builders.push((rng) => ({
        ...base,
        type: 'open_tip',
        values: { name },
        answer: tip,
        rationale: presenceRationale(f, c, rng),
        attribute: 'tip',
      }));
    }
  }
  const devices = c.findings.filter((f) => CATALOGUE[f.name].device);
  const presentDevices = devices.filter((f) => f.present);
  const allDevicesKnown = devices.length === Object.values(CATALOGUE).filter((s) => s.device).length;
  if (allDevicesKnown && presentDevices.length === 1) {
    const f = presentDevices[0];
    builders.push((rng) => ({
      task: 'open',
      type: 'open_device',
      values: {},
      answer: CATALOGUE[f.name].display,
      rationale: presenceRationale(f, c, rng),
      finding: f.name,
      attribute: 'type',
    }));
  }
  if (c.ctr !== undefined) {
    const ctr = c.ctr;
    builders.push(() => ({
      task: 'open',
      type: 'open_ctr',
      values: {},
      answer: ctrWord(ctr),
      rationale: ctrRationale(c, ctr),
      finding: 'cardiomegaly',
      attribute: 'ctr',
    }));
  }
  return builders;
}

/** Listing order follows the impression: most urgent first; devices are not abnormalities. */
function listDraft(c: LabelledCase, rng: Rng): Draft {
  const positives = c.findings
    .filter((f) => f.present && !CATALOGUE[f.name].device)
    .sort((a, b) => IMPRESSION_ORDER.indexOf(a.name) - IMPRESSION_ORDER.indexOf(b.name));
  return {
    task: 'abnormality_list',
    type: 'abnormality_list',
    values: {},
    answer: positives.length
      ? positives.map((f) => CATALOGUE[f.name].display).join(', ')
      : 'no acute abnormality',
    rationale: listRationale(positives, c, rng),
  };
}

/** Phantoms carry exact geometry (a measured CTR) and every attribute; imported labels do not. */
function attributesKnown(c: LabelledCase): boolean {
  return c.ctr !== undefined;
}

let cachedPrevalence: Record<FindingKey, number> | undefined;
function defaultPrevalence(): Record<FindingKey, number> {
  cachedPrevalence ??= expectedPrevalence();
  return cachedPrevalence;
}

function pickSome<T>(items: T[], n: number, rng: Rng): T[] {
  return rng.shuffle([...items]).slice(0, n);
}

export function synthesizeInstructions(
  c: LabelledCase,
  rng: Rng,
  options: SynthesizeOptions = {},
): InstructionSample[] {
  const per = { ...DEFAULT_PER_TASK, ...options.perTask };
  const drafts: Draft[] =
    per.closed > 0 ? closedDrafts(c, options.prevalence ?? defaultPrevalence(), rng) : [];
  // Absent-finding variants at about half the rate of present ones; balanceByPrompt evens them out.
  // Choice groups split by offered options, so more are drawn than kept after balancing.
  // Absent variants only where attributes are known (phantoms): an imported label has none to ask.
  const absentToo = attributesKnown(c);
  const choices = pickSome(choiceBuilders(c), 2 * per.choice, rng);
  for (const build of choices) drafts.push(build(rng));
  const absentChoices = absentToo && per.choice > 0 ? Math.max(1, choices.length) : 0;
  for (const build of pickSome(absentChoiceBuilders(c), absentChoices, rng)) drafts.push(build(rng));
  for (const build of pickSome(openBuilders(c), per.open, rng)) drafts.push(build(rng));
  const absentOpen = absentToo ? Math.ceil(per.open / 2) : 0;
  for (const build of pickSome(absentOpenBuilders(c), absentOpen, rng)) drafts.push(build(rng));
  if (per.abnormality_list > 0 && isCompleteForPathology(c)) drafts.push(listDraft(c, rng));
  const reports: Draft[] = [];
  for (let i = 0; i < per.report && c.findings.length > 0; i++) {
    reports.push({
      task: 'report',
      type: 'report',
      values: {},
      answer: writeReport(c, rng).text,
      rationale: '',
    });
  }
  drafts.push(...reports);
  return drafts.map((d, i) => toSample(c, d, i, rng));
}

function toSample(c: LabelledCase, d: Draft, index: number, rng: Rng): InstructionSample {
  const template = rng.pick(TEMPLATES[d.type]);
  const sample: InstructionSample = {
    id: `${c.id}/${d.task}/${index}`,
    case_id: c.id,
    task: d.task,
    question: fill(template.text, d.values),
    answer: d.answer,
    rationale: d.rationale,
    // A report is its own target: no short answer, scored per finding sentence.
    target_text: d.task === 'report' ? d.answer : formatTarget(d.answer, d.rationale),
    template: template.id,
  };
  if (d.finding) sample.finding = d.finding;
  if (d.attribute) sample.attribute = d.attribute;
  if (d.options) sample.options = d.options;
  if (d.negative) sample.negative = d.negative;
  return sample;
}
