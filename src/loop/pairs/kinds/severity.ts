/**
 * Severity shifts, one step up or down the scale: grade words (choice and open), a nodule's or
 * mass's size moved to the adjacent size band, the cardiothoracic ratio moved by 0.10 (with the
 * cardiomegaly verdict that ratio implies), and the grade of a finding in a report.
 */
import { ctrWord } from '../../../data/catalogue.ts';
import { SIZE_BANDS_MM } from '../../../data/phantom/index.ts';
import type { Finding, LabelledCase } from '../../../data/types.ts';
import { readSeverity, sizeMatches } from '../../../eval/answers.ts';
import {
  findingOf,
  presentFindings,
  SEVERITY_STEPS,
  severityStep,
  sizeBand,
  withFinding,
} from '../case-facts.ts';
import { claimDraft, type Draft, firstDraft, type GeneratorContext } from './context.ts';

/** The finding with its grade (or size band) moved one step; undefined when it has neither. */
function shifted(f: Finding, ctx: GeneratorContext): Finding | undefined {
  if (f.severity !== undefined) return { ...f, severity: severityStep(f.severity, ctx.rng) };
  if ((f.name === 'nodule' || f.name === 'mass') && f.size_mm !== undefined) {
    const key = f.name;
    const size = f.size_mm;
    const here = SEVERITY_STEPS.indexOf(sizeBand(key, size));
    // Middle of an adjacent band, kept only when it is outside the scorer's size tolerance.
    const sizes = [here - 1, here + 1]
      .filter((i) => i >= 0 && i < SEVERITY_STEPS.length)
      .map((i) => SIZE_BANDS_MM[key][SEVERITY_STEPS[i]])
      .map(([lo, hi]) => Math.round((lo + hi) / 2))
      .filter((mm) => !sizeMatches(mm, size));
    return sizes.length ? { ...f, size_mm: ctx.rng.pick(sizes) } : undefined;
  }
  return undefined;
}

/** A ratio 0.10 off (toward the 0.50 limit's other side when near it), with its implied verdict. */
function ctrClaim(truth: LabelledCase): LabelledCase | undefined {
  if (truth.ctr === undefined) return undefined;
  const bucket = Number(ctrWord(truth.ctr));
  const ctr = bucket >= 0.5 ? truth.ctr - 0.1 : truth.ctr + 0.1;
  const cardiomegaly = findingOf(truth, 'cardiomegaly');
  if (!cardiomegaly) return { ...truth, ctr };
  const enlarged = Number(ctrWord(ctr)) > 0.5;
  const verdict: Finding = enlarged
    ? { name: 'cardiomegaly', present: true, severity: cardiomegaly.severity ?? 'mild' }
    : { name: 'cardiomegaly', present: false };
  return withFinding({ ...truth, ctr }, verdict);
}

export function severityDraft(ctx: GeneratorContext): Draft | undefined {
  const { sample, truth } = ctx;
  const f = sample.finding ? findingOf(truth, sample.finding) : undefined;
  if (sample.task === 'choice' && sample.attribute === 'severity' && f?.present) {
    const other = (sample.options ?? []).find((o) => o !== sample.answer);
    const severity = other === undefined ? undefined : readSeverity(other, f.name);
    if (!severity) return undefined;
    return claimDraft(ctx, 'severity', 'severity.choice', withFinding(truth, { ...f, severity }));
  }
  if (
    sample.task === 'open' &&
    (sample.attribute === 'severity' || sample.attribute === 'size') &&
    f?.present
  ) {
    const next = shifted(f, ctx);
    return next && claimDraft(ctx, 'severity', `severity.open_${sample.attribute}`, withFinding(truth, next));
  }
  if (sample.task === 'open' && sample.attribute === 'ctr') {
    const claim = ctrClaim(truth);
    return claim && claimDraft(ctx, 'severity', 'severity.open_ctr', claim);
  }
  if (sample.task === 'report') {
    return firstDraft(ctx, presentFindings(truth), (g) => {
      const next = shifted(g, ctx);
      return next && claimDraft(ctx, 'severity', 'severity.report', withFinding(truth, next));
    });
  }
  return undefined;
}
