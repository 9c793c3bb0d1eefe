/**
 * Absent co-occurring findings asserted present — POPE's adversarial hallucination: an effusion
 * "seen" because the heart is large, a pneumothorax because a rib is broken. Closed: "yes" about
 * the absent partner; abnormality lists: an extra item; reports: the partner's negative sentence
 * replaced by a positive one (or added, when the reference never mentions it).
 */
import { CATALOGUE } from '../../../data/catalogue.ts';
import type { FindingKey, LabelledCase } from '../../../data/types.ts';
import { findingOf, plausiblePresent, presentFindings, withFinding } from '../case-facts.ts';
import { claimDraft, type Draft, firstDraft, type GeneratorContext } from './context.ts';

function cooccurs(a: FindingKey, b: FindingKey): boolean {
  return CATALOGUE[a].cooccurring.includes(b) || CATALOGUE[b].cooccurring.includes(a);
}

/** Findings the case lacks that commonly accompany one it has. */
export function absentPartners(truth: LabelledCase): FindingKey[] {
  const present = presentFindings(truth).map((f) => f.name);
  return (Object.keys(CATALOGUE) as FindingKey[]).filter(
    (k) => findingOf(truth, k)?.present !== true && present.some((p) => cooccurs(p, k)),
  );
}

export function cooccurrenceDraft(ctx: GeneratorContext): Draft | undefined {
  const { sample, truth, phantomConfig } = ctx;
  const add = (key: FindingKey): LabelledCase =>
    withFinding(truth, plausiblePresent(truth, key, phantomConfig));
  const partners = absentPartners(truth);
  if (sample.task === 'closed' && sample.finding && findingOf(truth, sample.finding)?.present === false) {
    if (!partners.includes(sample.finding)) return undefined;
    return claimDraft(ctx, 'cooccurrence', 'cooccurrence.closed', add(sample.finding));
  }
  if (sample.task === 'abnormality_list') {
    const pathology = partners.filter((k) => !CATALOGUE[k].device);
    return firstDraft(ctx, pathology, (k) =>
      claimDraft(ctx, 'cooccurrence', 'cooccurrence.list_extra', add(k)),
    );
  }
  if (sample.task === 'report') {
    return firstDraft(ctx, partners, (k) =>
      claimDraft(ctx, 'cooccurrence', 'cooccurrence.report_sentence', add(k)),
    );
  }
  return undefined;
}
