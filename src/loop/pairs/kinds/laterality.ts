/** Laterality swaps: left ↔ right (bilateral → one side) in choice and open answers and in reports. */
import { CATALOGUE } from '../../../data/catalogue.ts';
import type { Finding, Side } from '../../../data/types.ts';
import { findingOf, presentFindings, swappedSide, withFinding } from '../case-facts.ts';
import { claimDraft, type Draft, firstDraft, type GeneratorContext } from './context.ts';

function hasSide(f: Finding | undefined): f is Finding & { side: Side } {
  return f?.present === true && f.side !== undefined && CATALOGUE[f.name].attributes.includes('side');
}

export function lateralityDraft(ctx: GeneratorContext): Draft | undefined {
  const { sample, truth, rng } = ctx;
  const f = sample.finding ? findingOf(truth, sample.finding) : undefined;
  if (sample.task === 'choice' && sample.attribute === 'side' && hasSide(f)) {
    const other = (sample.options ?? []).find((o) => o !== sample.answer) as Side | undefined;
    if (!other) return undefined;
    return claimDraft(ctx, 'laterality', 'laterality.choice', withFinding(truth, { ...f, side: other }));
  }
  if (sample.task === 'open' && sample.attribute === 'location' && hasSide(f)) {
    return claimDraft(
      ctx,
      'laterality',
      'laterality.open_location',
      withFinding(truth, { ...f, side: swappedSide(f.side, rng) }),
    );
  }
  if (sample.task === 'report') {
    return firstDraft(ctx, presentFindings(truth).filter(hasSide), (g) =>
      claimDraft(
        ctx,
        'laterality',
        'laterality.report',
        withFinding(truth, { ...g, side: swappedSide(g.side, rng) }),
      ),
    );
  }
  return undefined;
}
