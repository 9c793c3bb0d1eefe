/**
 * Location shifts: a finding moved one zone up or down (open location answers, report sentences),
 * and a tube or line tip placed at another position (choice, open, reports) — tip position is where
 * a device's errors live.
 */
import type { Finding, TipPosition, Zone } from '../../../data/types.ts';
import { readTip } from '../../../eval/answers.ts';
import { findingOf, otherTip, presentFindings, withFinding, zoneStep } from '../case-facts.ts';
import { claimDraft, type Draft, firstDraft, type GeneratorContext } from './context.ts';

function moved(f: Finding, ctx: GeneratorContext): Finding | undefined {
  if (f.zone !== undefined) return { ...f, zone: zoneStep(f.zone as Zone, ctx.rng) };
  if (f.tip !== undefined) return { ...f, tip: otherTip(f.tip, ctx.rng) };
  return undefined;
}

export function locationDraft(ctx: GeneratorContext): Draft | undefined {
  const { sample, truth } = ctx;
  const f = sample.finding ? findingOf(truth, sample.finding) : undefined;
  if (sample.task === 'choice' && sample.attribute === 'tip' && f?.present) {
    const other = (sample.options ?? []).find((o) => o !== sample.answer);
    const tip: TipPosition | undefined = other === undefined ? undefined : readTip(other);
    return tip && claimDraft(ctx, 'location', 'location.choice_tip', withFinding(truth, { ...f, tip }));
  }
  if (sample.task === 'open' && f?.present) {
    if (sample.attribute === 'location' && f.zone !== undefined)
      return claimDraft(ctx, 'location', 'location.open_zone', withFinding(truth, moved(f, ctx)!));
    if (sample.attribute === 'tip' && f.tip !== undefined)
      return claimDraft(ctx, 'location', 'location.open_tip', withFinding(truth, moved(f, ctx)!));
    return undefined;
  }
  if (sample.task === 'report') {
    return firstDraft(ctx, presentFindings(truth), (g) => {
      const next = moved(g, ctx);
      return next && claimDraft(ctx, 'location', 'location.report', withFinding(truth, next));
    });
  }
  return undefined;
}
