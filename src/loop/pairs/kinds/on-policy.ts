/**
 * The model's own wrong answer as the rejected side: its greedy answer, else one of its sampled
 * answers (mining/sample-answers.ts). Kept only when it is parseable (the scorer's readers find the
 * value it states, so the pair teaches a real preference rather than formatting) and the scorer
 * judges it wrong for the case.
 */
import { splitTarget } from '../../../data/instructions/target.ts';
import { labelReport } from '../../../data/labeler/index.ts';
import type { InstructionSample } from '../../../data/types.ts';
import {
  readChoice,
  readCtrBucket,
  readFindings,
  readLocation,
  readSeverity,
  readSizeMm,
  readTip,
  readYesNo,
} from '../../../eval/answers.ts';
import { judgeAnswer } from '../verify.ts';
import type { Draft, GeneratorContext } from './context.ts';

/** Whether the answer states a value the scorer can read for this sample. */
export function parseable(sample: InstructionSample, text: string): boolean {
  if (sample.task === 'report') return Object.values(labelReport(text)).some((l) => l !== 'not_mentioned');
  const answer = splitTarget(text).answer;
  if (answer.length === 0) return false;
  if (sample.task === 'abnormality_list')
    return readFindings(answer).size > 0 || /\b(no|normal)\b/i.test(answer);
  if (sample.task === 'closed') return readYesNo(answer) !== undefined;
  if (sample.task === 'choice') return readChoice(answer, sample.options ?? [sample.answer]) !== undefined;
  switch (sample.attribute) {
    case 'location': {
      const l = readLocation(answer);
      return l.side !== undefined || l.zone !== undefined;
    }
    case 'severity':
      return readSeverity(answer, sample.finding) !== undefined;
    case 'size':
      return readSizeMm(answer) !== undefined;
    case 'tip':
      return readTip(answer) !== undefined;
    case 'ctr':
      return readCtrBucket(answer) !== undefined;
    case 'type':
      return readFindings(answer).size > 0;
    default:
      return true;
  }
}

/** Whether the model's answer `text` can be the rejected side: non-empty, not the chosen text, parseable and judged wrong. */
export function usableWrongAnswer(
  ctx: Pick<GeneratorContext, 'sample' | 'truth' | 'chosen'>,
  text: string,
): boolean {
  const t = text.trim();
  if (t.length === 0 || t === ctx.chosen || !parseable(ctx.sample, t)) return false;
  return judgeAnswer(ctx.sample, ctx.truth, t).verdict === 'wrong';
}

/**
 * The first usable wrong answer among the greedy prediction and then the sampled ones (in draw
 * order); the generator name says which (`on_policy.<task>` or `on_policy.<task>.sampled`).
 */
export function onPolicyDraft(ctx: GeneratorContext): Draft | undefined {
  const { prediction, samples } = ctx.selected.scored;
  if (prediction.prompt_too_long) return undefined;
  const candidates = [
    { text: prediction.text, suffix: '' },
    ...(samples ?? []).map((text) => ({ text, suffix: '.sampled' })),
  ];
  const found = candidates.find((c) => usableWrongAnswer(ctx, c.text));
  if (!found) return undefined;
  return {
    kind: 'on_policy',
    generator: `on_policy.${ctx.sample.task}${found.suffix}`,
    rejected: found.text.trim(),
  };
}
