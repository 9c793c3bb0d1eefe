/**
 * Negation flips: a present finding denied, or an absent one affirmed where no present finding
 * explains the error (those hard negatives belong to the confusable and co-occurrence rules).
 * Closed: yes ↔ no with the matching presence/absence rationale. Reports: a present finding's
 * sentence negated. Abnormality lists: a present finding omitted.
 */
import { CATALOGUE } from '../../../data/catalogue.ts';
import { related } from '../../../eval/truth.ts';
import { findingOf, plausiblePresent, presentFindings, withFinding } from '../case-facts.ts';
import { claimDraft, type Draft, firstDraft, type GeneratorContext } from './context.ts';

export function negationDraft(ctx: GeneratorContext): Draft | undefined {
  const { sample, truth } = ctx;
  if (sample.task === 'closed' && sample.finding) {
    const key = sample.finding;
    const f = findingOf(truth, key);
    if (!f) return undefined;
    if (f.present)
      return claimDraft(
        ctx,
        'negation',
        'negation.closed_yes_to_no',
        withFinding(truth, { name: key, present: false }),
      );
    if (presentFindings(truth).some((p) => related(p.name, key))) return undefined;
    return claimDraft(
      ctx,
      'negation',
      'negation.closed_no_to_yes',
      withFinding(truth, plausiblePresent(truth, key, ctx.phantomConfig)),
    );
  }
  if (sample.task === 'report' || sample.task === 'abnormality_list') {
    const isList = sample.task === 'abnormality_list';
    const present = presentFindings(truth).filter((f) => !(isList && CATALOGUE[f.name].device));
    const generator = isList ? 'negation.list_omission' : 'negation.report_sentence';
    return firstDraft(ctx, present, (f) =>
      claimDraft(ctx, 'negation', generator, withFinding(truth, { name: f.name, present: false })),
    );
  }
  return undefined;
}
