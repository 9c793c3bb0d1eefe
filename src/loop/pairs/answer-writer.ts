/**
 * Writes the target text a sample would have if the case were `claim` — the synthesiser's own
 * answer shapes and rationales (src/data/instructions), applied to a counterfactual case. A rejected
 * answer is this text for a wrong claim, so it is as fluent and as case-specific as the chosen one
 * and its length and wording do not give it away.
 */
import { attributeWords, CATALOGUE, ctrWord, severityWord, TIP_WORDS } from '../../data/catalogue.ts';
import {
  absenceRationale,
  choiceFindingRationale,
  ctrRationale,
  listRationale,
  presenceRationale,
} from '../../data/instructions/rationale.ts';
import { formatTarget } from '../../data/instructions/target.ts';
import type { Rng } from '../../data/random.ts';
import { IMPRESSION_ORDER } from '../../data/report/index.ts';
import type { FindingKey, InstructionSample, LabelledCase } from '../../data/types.ts';
import { findingOf } from './case-facts.ts';
import { rewriteReport } from './report-edit.ts';

/** Short answer and rationale, or undefined when the sample cannot be answered for this claim. */
type Written = { answer: string; rationale: string } | undefined;

function closedAnswer(key: FindingKey, claim: LabelledCase, rng: Rng): Written {
  const f = findingOf(claim, key);
  if (!f) return undefined;
  return f.present
    ? { answer: 'yes', rationale: presenceRationale(f, claim, rng) }
    : { answer: 'no', rationale: absenceRationale(key, claim, rng) };
}

function choiceAnswer(sample: InstructionSample, claim: LabelledCase, rng: Rng): Written {
  const options = sample.options ?? [];
  const f = sample.finding ? findingOf(claim, sample.finding) : undefined;
  let answer: string | undefined;
  if (sample.attribute === 'finding') {
    const byDisplay = new Map(
      options.map((o) => [
        o,
        (Object.keys(CATALOGUE) as FindingKey[]).find((k) => CATALOGUE[k].display === o),
      ]),
    );
    const present = options.filter((o) => {
      const key = byDisplay.get(o);
      return key !== undefined && findingOf(claim, key)?.present === true;
    });
    if (present.length !== 1) return undefined;
    const named = findingOf(claim, byDisplay.get(present[0])!)!;
    const other = byDisplay.get(options.find((o) => o !== present[0]) ?? '');
    if (!other) return undefined;
    return { answer: present[0], rationale: choiceFindingRationale(named, other, claim, rng) };
  }
  if (!f?.present) return undefined;
  if (sample.attribute === 'side') answer = f.side;
  else if (sample.attribute === 'severity') answer = f.severity && severityWord(f.name, f.severity);
  else if (sample.attribute === 'tip') answer = f.tip && TIP_WORDS[f.tip];
  if (answer === undefined || !options.includes(answer)) return undefined;
  return { answer, rationale: presenceRationale(f, claim, rng) };
}

function openAnswer(sample: InstructionSample, claim: LabelledCase, rng: Rng, focus?: FindingKey): Written {
  if (sample.attribute === 'ctr') {
    if (claim.ctr === undefined) return undefined;
    return { answer: ctrWord(claim.ctr), rationale: ctrRationale(claim, claim.ctr) };
  }
  const key = focus ?? sample.finding;
  const f = key ? findingOf(claim, key) : undefined;
  if (!f?.present) return undefined;
  const w = attributeWords(f, claim.ctr);
  const answers: Record<string, string | undefined> = {
    location: w.location,
    severity: w.severity,
    size: w.size,
    tip: f.tip && TIP_WORDS[f.tip],
    type: CATALOGUE[f.name].display,
  };
  const answer = sample.attribute ? answers[sample.attribute] : undefined;
  return answer === undefined ? undefined : { answer, rationale: presenceRationale(f, claim, rng) };
}

/** As the synthesiser's list: pathology only, most urgent first. */
function listAnswer(claim: LabelledCase, rng: Rng): Written {
  const positives = claim.findings
    .filter((f) => f.present && !CATALOGUE[f.name].device)
    .sort((a, b) => IMPRESSION_ORDER.indexOf(a.name) - IMPRESSION_ORDER.indexOf(b.name));
  return {
    answer: positives.length
      ? positives.map((f) => CATALOGUE[f.name].display).join(', ')
      : 'no acute abnormality',
    rationale: listRationale(positives, claim, rng),
  };
}

/**
 * The full target text for `sample` under `claim`. `truth` is the case the sample was written for
 * (reports keep its sentences for every finding the claim does not change). `focus` names the
 * finding an open "what is it" answer should name when the claim renames it.
 */
export function answerFor(
  sample: InstructionSample,
  truth: LabelledCase,
  claim: LabelledCase,
  rng: Rng,
  focus?: FindingKey,
): string | undefined {
  if (sample.task === 'report') return rewriteReport(sample.target_text, truth, claim, rng);
  let written: Written;
  if (sample.task === 'closed')
    written = sample.finding ? closedAnswer(sample.finding, claim, rng) : undefined;
  else if (sample.task === 'choice') written = choiceAnswer(sample, claim, rng);
  else if (sample.task === 'open') written = openAnswer(sample, claim, rng, focus);
  else written = listAnswer(claim, rng);
  return written && formatTarget(written.answer, written.rationale);
}
