export { balanceByPrompt, promptGroup } from './balance.ts';
export { absenceRationale, ctrRationale, presenceRationale } from './rationale.ts';
export {
  ABSENT_ANSWER,
  DEFAULT_PER_TASK,
  type SynthesizeOptions,
  synthesizeInstructions,
} from './synthesize.ts';
export { formatTarget, splitTarget } from './target.ts';
export { ALL_TEMPLATE_IDS, type QuestionType, TEMPLATES, type Template } from './templates.ts';
