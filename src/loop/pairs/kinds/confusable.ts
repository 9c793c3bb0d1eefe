/**
 * Confusable findings: the catalogue's look-alike named instead of the true finding, at the same
 * place and grade (atelectasis read as consolidation, a nodule as a mass). Closed questions get it
 * both ways: a present finding denied because its look-alike is "seen" instead, and an absent
 * finding affirmed on the signs of the present look-alike.
 */
import { CATALOGUE } from '../../../data/catalogue.ts';
import type { Finding, FindingKey, LabelledCase } from '../../../data/types.ts';
import { findingOf, presentFindings, renamed, withFindings } from '../case-facts.ts';
import { claimDraft, type Draft, firstDraft, type GeneratorContext } from './context.ts';

/** Non-device look-alikes of `key`, in either direction of the catalogue. */
export function lookAlikes(key: FindingKey): FindingKey[] {
  const out = new Set<FindingKey>(CATALOGUE[key].confusable);
  for (const spec of Object.values(CATALOGUE)) if (spec.confusable.includes(key)) out.add(spec.key);
  return [...out].filter((k) => !CATALOGUE[k].device);
}

/** `f` read as `other` (which the case does not have): f removed, other present at f's place. */
function confused(truth: LabelledCase, f: Finding, other: FindingKey): LabelledCase | undefined {
  if (findingOf(truth, other)?.present) return undefined;
  return withFindings(truth, [{ name: f.name, present: false }, renamed(f, other)]);
}

export function confusableDraft(ctx: GeneratorContext): Draft | undefined {
  const { sample, truth } = ctx;
  const key = sample.finding;
  const f = key ? findingOf(truth, key) : undefined;
  if (sample.task === 'closed' && key && f) {
    if (f.present)
      return firstDraft(ctx, lookAlikes(key), (other) => {
        const claim = confused(truth, f, other);
        return claim && claimDraft(ctx, 'confusable', 'confusable.closed_missed', claim);
      });
    const mimics = presentFindings(truth).filter((p) => lookAlikes(key).includes(p.name));
    return firstDraft(ctx, mimics, (m) => {
      const claim = confused(truth, m, key);
      return claim && claimDraft(ctx, 'confusable', 'confusable.closed_mimic', claim);
    });
  }
  if (sample.task === 'choice' && sample.attribute === 'finding' && f?.present) {
    const other = (sample.options ?? []).find((o) => o !== sample.answer);
    const otherKey = (Object.keys(CATALOGUE) as FindingKey[]).find((k) => CATALOGUE[k].display === other);
    const claim = otherKey && confused(truth, f, otherKey);
    return claim && claimDraft(ctx, 'confusable', 'confusable.choice', claim);
  }
  if (sample.task === 'open' && sample.attribute === 'type' && key && f?.present) {
    return firstDraft(ctx, lookAlikes(key), (other) => {
      const claim = confused(truth, f, other);
      return claim && claimDraft(ctx, 'confusable', 'confusable.open_type', claim, other);
    });
  }
  if (sample.task === 'report' || sample.task === 'abnormality_list') {
    const generator = sample.task === 'report' ? 'confusable.report' : 'confusable.list';
    const options = presentFindings(truth).flatMap((p) => lookAlikes(p.name).map((o) => [p, o] as const));
    return firstDraft(ctx, options, ([p, other]) => {
      const claim = confused(truth, p, other);
      return claim && claimDraft(ctx, 'confusable', generator, claim);
    });
  }
  return undefined;
}
