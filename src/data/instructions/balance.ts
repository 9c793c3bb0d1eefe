/**
 * Makes a split's questions answerable only from the image: samples are grouped by what the prompt
 * reveals (task, question type, finding, offered options) and every answer class of a group is cut to
 * the same count, so no wording predicts its answer. Closed: yes = no per finding. Choice: each offered
 * option and "none" equally often. Open attribute questions: present = absent per finding and type.
 * Groups that cannot be balanced (a class never occurs) are dropped; lists and reports are kept whole.
 */
import type { Rng } from '../random.ts';
import type { InstructionSample } from '../types.ts';
import { ABSENT_ANSWER } from './synthesize.ts';

interface PromptGroup {
  key: string;
  /** Every answer class the prompt allows; all must occur for the group to be balanced. */
  classes: string[];
  answerClass: string;
}

/** Open questions whose type has an absent variant; the others (type, device, CTR) stay as drawn. */
const OPEN_WITH_ABSENT = new Set(['location', 'severity', 'size', 'tip']);

function questionType(s: InstructionSample): string {
  return s.template.split('.')[0];
}

export function promptGroup(s: InstructionSample): PromptGroup | undefined {
  const type = questionType(s);
  if (s.task === 'closed')
    return { key: `${type}|${s.finding}`, classes: ['yes', 'no'], answerClass: s.answer };
  if (s.task === 'choice') {
    const options = [...(s.options ?? [])].sort();
    // A choice between two findings is identified by its options; the others also by their finding.
    const about = type === 'choice_finding' ? '' : s.finding;
    return {
      key: `${type}|${about}|${options.join('|')}`,
      classes: [...options, ABSENT_ANSWER],
      answerClass: s.answer,
    };
  }
  if (s.task === 'open' && s.attribute && OPEN_WITH_ABSENT.has(s.attribute))
    return {
      key: `${type}|${s.finding}`,
      classes: ['present', 'absent'],
      answerClass: s.answer === ABSENT_ANSWER ? 'absent' : 'present',
    };
  return undefined;
}

export interface BalanceReport {
  kept: number;
  dropped: number;
  groups: number;
}

/** The samples kept, in their original order. */
export function balanceByPrompt<T extends InstructionSample>(
  samples: readonly T[],
  rng: Rng,
): { samples: T[]; report: BalanceReport } {
  const groups = new Map<string, { classes: string[]; byClass: Map<string, number[]> }>();
  const keep = new Array<boolean>(samples.length).fill(false);
  samples.forEach((s, i) => {
    const g = promptGroup(s);
    if (!g) {
      keep[i] = true;
      return;
    }
    const entry = groups.get(g.key) ?? { classes: g.classes, byClass: new Map<string, number[]>() };
    groups.set(g.key, entry);
    const list = entry.byClass.get(g.answerClass) ?? [];
    list.push(i);
    entry.byClass.set(g.answerClass, list);
  });
  for (const key of [...groups.keys()].sort()) {
    const { classes, byClass } = groups.get(key)!;
    const n = Math.min(...classes.map((c) => byClass.get(c)?.length ?? 0));
    for (const c of classes)
      for (const i of rng.shuffle([...(byClass.get(c) ?? [])]).slice(0, n)) keep[i] = true;
  }
  const kept = samples.filter((_, i) => keep[i]);
  return {
    samples: kept,
    report: { kept: kept.length, dropped: samples.length - kept.length, groups: groups.size },
  };
}
