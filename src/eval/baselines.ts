/**
 * Controls that never look at the image, fitted on the train split and scored like a model:
 *
 * - question only: for closed, choice and open questions, the answer most often right for the exact
 *   question wording in train (falling back to the question type and finding, then to the task);
 * - constant list / constant report: the one train answer whose findings score best (set F1 for lists,
 *   finding-level micro F1 for reports) over train cases.
 * On the balanced benchmark the question-only control should sit at chance; any margin above it is
 * what the wording gives away.
 */
import { splitTarget } from '../data/instructions/index.ts';
import { labelReport } from '../data/labeler/index.ts';
import { FINDING_KEYS, type FindingKey, type InstructionSample, type LabelledCase } from '../data/types.ts';
import { readFindings } from './answers.ts';
import type { Prediction } from './score.ts';
import { truthFromCases } from './truth.ts';

export interface QuestionOnlyBaseline {
  byQuestion: Map<string, string>;
  byType: Map<string, string>;
  byTask: Map<string, string>;
  list: string;
  report: string;
}

const typeKey = (s: InstructionSample): string => `${s.template.split('.')[0]}|${s.finding ?? ''}`;
const wording = (s: InstructionSample): string => s.question.trim().toLowerCase();

function mostCommon(counts: Map<string, Map<string, number>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, answers] of counts) {
    let best = '';
    let n = -1;
    for (const [answer, c] of [...answers].sort(([a], [b]) => a.localeCompare(b)))
      if (c > n) {
        best = answer;
        n = c;
      }
    out.set(key, best);
  }
  return out;
}

function count(map: Map<string, Map<string, number>>, key: string, answer: string): void {
  const m = map.get(key) ?? new Map<string, number>();
  m.set(answer, (m.get(answer) ?? 0) + 1);
  map.set(key, m);
}

type Counts = { tp: number; fp: number; fn: number };

/** Findings a text asserts, over the findings whose truth is known in `truth`. */
function outcomes(asserted: Set<FindingKey>, truth: ReadonlyMap<FindingKey, boolean>, c: Counts): void {
  for (const [f, present] of truth) {
    if (asserted.has(f) && present) c.tp++;
    else if (asserted.has(f)) c.fp++;
    else if (present) c.fn++;
  }
}

const f1 = (c: Counts): number => (c.tp + c.fp + c.fn === 0 ? 1 : (2 * c.tp) / (2 * c.tp + c.fp + c.fn));

function reportFindings(text: string): Set<FindingKey> {
  const labels = labelReport(text);
  return new Set(FINDING_KEYS.filter((k) => labels[k] === 'positive' || labels[k] === 'uncertain'));
}

/** The candidate text whose asserted findings score best over the train cases' truth. */
function bestConstant(
  candidates: readonly string[],
  truths: readonly ReadonlyMap<FindingKey, boolean>[],
  read: (text: string) => Set<FindingKey>,
  pooled: boolean,
): string {
  let best = candidates[0] ?? '';
  let bestScore = -1;
  const seen = new Set<string>();
  for (const text of candidates) {
    if (seen.has(text)) continue;
    seen.add(text);
    const asserted = read(text);
    let score: number;
    if (pooled) {
      const c = { tp: 0, fp: 0, fn: 0 };
      for (const t of truths) outcomes(asserted, t, c);
      score = f1(c);
    } else {
      score = 0;
      for (const t of truths) {
        const c = { tp: 0, fp: 0, fn: 0 };
        outcomes(asserted, t, c);
        score += f1(c);
      }
    }
    if (score > bestScore) {
      best = text;
      bestScore = score;
    }
  }
  return best;
}

/** Fits every image-blind control on train samples and cases (at most `maxCandidates` constants tried). */
export function fitQuestionOnly(
  samples: readonly InstructionSample[],
  cases: readonly LabelledCase[],
  maxCandidates = 400,
): QuestionOnlyBaseline {
  const byQuestion = new Map<string, Map<string, number>>();
  const byType = new Map<string, Map<string, number>>();
  const byTask = new Map<string, Map<string, number>>();
  for (const s of samples) {
    if (s.task === 'report' || s.task === 'abnormality_list') continue;
    count(byQuestion, wording(s), s.answer);
    count(byType, typeKey(s), s.answer);
    count(byTask, s.task, s.answer);
  }
  const truthIndex = truthFromCases(cases);
  const truths = cases.slice(0, 1000).map((c) => truthIndex.get(c.id)!);
  const nonDevice = (t: ReadonlyMap<FindingKey, boolean>) =>
    new Map([...t].filter(([f]) => !['endotracheal_tube', 'central_line'].includes(f)));
  const reports = samples.filter((s) => s.task === 'report').slice(0, maxCandidates);
  const lists = samples.filter((s) => s.task === 'abnormality_list').slice(0, maxCandidates);
  return {
    byQuestion: mostCommon(byQuestion),
    byType: mostCommon(byType),
    byTask: mostCommon(byTask),
    report: bestConstant(
      reports.map((s) => s.answer),
      truths,
      reportFindings,
      true,
    ),
    list: bestConstant(
      lists.map((s) => s.answer),
      truths.map(nonDevice),
      (t) => readFindings(t),
      false,
    ),
  };
}

/** The baseline's answer to every sample, in the model's target format. */
export function questionOnlyPredictions(
  baseline: QuestionOnlyBaseline,
  samples: readonly InstructionSample[],
): Prediction[] {
  return samples.map((s) => {
    let text: string;
    if (s.task === 'report') text = baseline.report;
    else if (s.task === 'abnormality_list') text = `${baseline.list}.`;
    else {
      const answer =
        baseline.byQuestion.get(wording(s)) ??
        baseline.byType.get(typeKey(s)) ??
        baseline.byTask.get(s.task) ??
        '';
      text = `${splitTarget(answer).answer}.`;
    }
    return { sample_id: s.id, text, answer_prob: 0.5, min_prob: 0.5, mean_logprob: Math.log(0.5) };
  });
}
