/**
 * Image counterfactuals (mDPO): the chosen text twice, the rejected side shown with an image of the
 * same patient re-rendered with the finding the answer depends on removed, added or altered, so
 * the only thing that makes the answer right is the image. Phantom cases only. The edit is kept
 * when the chosen answer is judged wrong for the edited case.
 */
import { CATALOGUE } from '../../../data/catalogue.ts';
import { splitTarget } from '../../../data/instructions/target.ts';
import { type CaseEdit, editCase, PhantomError } from '../../../data/phantom/index.ts';
import type { PhantomCase, Side } from '../../../data/types.ts';
import { readSeverity } from '../../../eval/answers.ts';
import { answerFor } from '../answer-writer.ts';
import { findingOf, isPhantom, SEVERITY_STEPS, severityStep, sizeBand, swappedSide } from '../case-facts.ts';
import { judgeAnswer } from '../verify.ts';
import type { Draft, GeneratorContext } from './context.ts';
import { absentPartners } from './cooccurrence.ts';

/** Edits that should make the chosen answer wrong, most direct first. */
function candidateEdits(ctx: GeneratorContext, c: PhantomCase): CaseEdit[] {
  const { sample, rng } = ctx;
  const key = sample.finding;
  const f = key ? findingOf(c, key) : undefined;
  const toggle = (k: typeof key & string): CaseEdit => ({
    finding: k,
    change: findingOf(c, k)?.present ? 'remove' : 'add',
  });
  if (sample.task === 'closed' && key) return [toggle(key)];
  if (sample.task === 'open' && sample.attribute === 'ctr') return [toggle('cardiomegaly')];
  if ((sample.task === 'choice' || sample.task === 'open') && key && f?.present) {
    const edits: CaseEdit[] = [];
    const other = (sample.options ?? []).find((o) => o !== sample.answer);
    if (sample.attribute === 'side' && other) edits.push({ finding: key, change: { side: other as Side } });
    if (sample.attribute === 'location' && f.side)
      edits.push({ finding: key, change: { side: swappedSide(f.side, rng) } });
    if (sample.attribute === 'severity') {
      const severity =
        sample.task === 'choice'
          ? other && readSeverity(other, key)
          : f.severity && severityStep(f.severity, rng);
      if (severity) edits.push({ finding: key, change: { severity } });
    }
    if (sample.attribute === 'size' && (key === 'nodule' || key === 'mass') && f.size_mm !== undefined) {
      const band = SEVERITY_STEPS.indexOf(sizeBand(key, f.size_mm));
      for (const i of rng.shuffle([band - 1, band + 1]))
        if (i >= 0 && i < SEVERITY_STEPS.length)
          edits.push({ finding: key, change: { severity: SEVERITY_STEPS[i] } });
    }
    edits.push({ finding: key, change: 'remove' });
    return edits;
  }
  // Lists and reports: remove a present finding, or add an absent co-occurring one.
  const isList = sample.task === 'abnormality_list';
  const removable = c.findings.filter((g) => g.present && !(isList && CATALOGUE[g.name].device));
  const addable = absentPartners(c).filter((k) => !(isList && CATALOGUE[k].device));
  return rng.shuffle([
    ...removable.map((g): CaseEdit => ({ finding: g.name, change: 'remove' })),
    ...addable.map((k): CaseEdit => ({ finding: k, change: 'add' })),
  ]);
}

/** Whether the chosen text is wrong for the edited case (its answer no longer holds). */
function chosenWrongFor(ctx: GeneratorContext, edited: PhantomCase): boolean {
  const { sample, chosen } = ctx;
  if (sample.task === 'report' || sample.task === 'abnormality_list')
    return judgeAnswer(sample, edited, chosen).verdict === 'wrong';
  const target = answerFor(sample, edited, edited, ctx.rng);
  // No answer on the edited image (the finding asked about is gone): the chosen claim is false.
  if (target === undefined)
    return sample.finding !== undefined && findingOf(edited, sample.finding)?.present !== true;
  return judgeAnswer({ ...sample, answer: splitTarget(target).answer }, edited, chosen).verdict === 'wrong';
}

export function imageCounterfactualDraft(ctx: GeneratorContext): Draft | undefined {
  const c = ctx.truth;
  if (!isPhantom(c)) return undefined;
  for (const edit of candidateEdits(ctx, c)) {
    let edited: PhantomCase;
    try {
      edited = editCase(c, edit, ctx.phantomConfig);
    } catch (error) {
      if (error instanceof PhantomError) continue;
      throw error;
    }
    if (!chosenWrongFor(ctx, edited)) continue;
    const change = typeof edit.change === 'string' ? edit.change : Object.keys(edit.change)[0];
    return {
      kind: 'image_counterfactual',
      generator: `image_counterfactual.${ctx.sample.task}.${change}`,
      rejected: ctx.chosen,
      rejectedImage: { kind: 'phantom_edit', case_id: c.id, edit },
    };
  }
  return undefined;
}
