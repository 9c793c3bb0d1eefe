/**
 * The model's own wrong answer as the rejected side. Kept only when it is parseable (the scorer's
 * readers find the value it states, so the pair teaches a real preference rather than formatting)
 * and the scorer judges it wrong for the case.
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

export function onPolicyDraft(ctx: GeneratorContext): Draft | undefined {
  const { prediction } = ctx.selected.scored;
  if (prediction.prompt_too_long) return undefined;
  const text = prediction.text.trim();
  if (text.length === 0 || text === ctx.chosen || !parseable(ctx.sample, text)) return undefined;
  if (judgeAnswer(ctx.sample, ctx.truth, text).verdict !== 'wrong') return undefined;
  return { kind: 'on_policy', generator: `on_policy.${ctx.sample.task}`, rejected: text };
}
