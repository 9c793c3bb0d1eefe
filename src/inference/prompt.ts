/**
 * The prompt the model sees, phrased like the instruction templates it was trained on
 * (src/data/instructions/templates.ts): choice questions name their options inline ("Which side is
 * affected by the effusion: left or right?"), reports use a report template.
 */
import { TEMPLATES } from '../data/instructions/templates.ts';
import type { TaskType } from '../data/types.ts';
import type { AnswerTask } from './answer.ts';

/** The report instruction (templates: report.4). */
export const REPORT_PROMPT = TEMPLATES.report.find((t) => t.text.includes('findings and impression'))!.text;

const words = (text: string): string =>
  ` ${text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()} `;

/** "a", "a or b", "a, b or c" — the templates' way of listing options. */
export function listOptions(options: readonly string[]): string {
  if (options.length <= 1) return options.join('');
  return `${options.slice(0, -1).join(', ')} or ${options.at(-1)}`;
}

/**
 * A choice question already naming every option is left as asked; otherwise the options are appended
 * the way `choice_finding.2` phrases them: "<question without '?'>: <o1> or <o2>?".
 */
export function buildPrompt(task: AnswerTask, question?: string, options?: readonly string[]): string {
  // Reports always use the trained instruction; a free-text question would be off-distribution.
  if (task === 'report') return REPORT_PROMPT;
  const q = (question ?? '').trim();
  const opts = (options ?? []).map((o) => o.trim()).filter((o) => o.length > 0);
  if (opts.length === 0) return q;
  const asked = words(q);
  if (opts.every((o) => asked.includes(words(o)))) return q;
  return `${q.replace(/[?.!\s]+$/, '')}: ${listOptions(opts)}?`;
}

/**
 * The instruction task of an answer (the calibrator's task feature): reports are `report`, questions
 * with options `choice`, yes/no answers `closed`, anything else `open`.
 */
export function taskTypeOf(
  task: AnswerTask,
  options: readonly string[] | undefined,
  shortAnswer: string,
): TaskType {
  if (task === 'report') return 'report';
  if (options && options.length > 0) return 'choice';
  const first = shortAnswer.trim().toLowerCase().split(/\s+/)[0];
  return first === 'yes' || first === 'no' ? 'closed' : 'open';
}
