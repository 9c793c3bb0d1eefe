/**
 * Scores one generated answer against its instruction sample.
 *
 * Every task reads the short answer with `splitTarget` (the "<answer>. <rationale>" format), except
 * reports, which are labelled whole. Besides a score in [0, 1], a sample yields presence judgements
 * (finding, truly present?, asserted by the model?) that feed the finding-level metrics:
 * hallucination, omission, report F1, POPE probes.
 *
 * Report decision — an UNCERTAIN mention ("possible effusion") counts as ASSERTED (CheXpert's
 * "U-ones"): a hedged finding still sends the patient to work-up, so hedging about an absent finding
 * is a hallucination, and hedging about a present one is not an omission. A present finding the
 * report never mentions is an omission; an absent one it never mentions is a true negative.
 * Closed answers assert presence only by "yes": an unreadable answer about a present finding fails
 * to affirm it (an omission), about an absent one it asserts nothing (not a hallucination).
 */
import { CATALOGUE } from '../data/catalogue.ts';
import { ABSENT_ANSWER, splitTarget } from '../data/instructions/index.ts';
import { labelReport } from '../data/labeler/index.ts';
import type { FindingKey, InstructionSample, TaskType } from '../data/types.ts';
import { FINDING_KEYS } from '../data/types.ts';
import {
  normalizeAnswer,
  readChoice,
  readCtrBucket,
  readFindings,
  readLocation,
  readSeverity,
  readSizeMm,
  readTip,
  readYesNo,
  sizeMatches,
} from './answers.ts';
import { type CaseTruth, referenceReportTruth } from './truth.ts';

/** One generated answer and the model's confidences for it (from the engine). */
export interface Prediction {
  sample_id: string;
  /** Generated text, in the target format. */
  text: string;
  /** Probability of the short-answer span (product of its token probabilities). */
  answer_prob: number;
  /** Minimum token probability over the answer span. */
  min_prob: number;
  /** Mean token log-probability over the generated text. */
  mean_logprob: number;
}

/** A statement about one finding's presence that a sample lets us check. */
export interface FindingJudgement {
  finding: FindingKey;
  present: boolean;
  asserted: boolean;
  source: TaskType;
}

export interface SampleScore {
  sample_id: string;
  case_id: string;
  task: TaskType;
  finding?: FindingKey;
  attribute?: string;
  /** 1/0 for closed, choice and open; set F1 for lists and reports. */
  score: number;
  /** The short answer as read (normalised), or the asserted findings of a list/report. */
  read: string;
  confidence: number;
  judgements: FindingJudgement[];
}

/** F1 of asserted vs present; 1 when both sets are empty (nothing to find, nothing claimed). */
export function setF1(judgements: readonly FindingJudgement[]): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const j of judgements) {
    if (j.asserted && j.present) tp++;
    else if (j.asserted) fp++;
    else if (j.present) fn++;
  }
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

/** Whether an open (attribute) answer states the sample's value. */
function openCorrect(sample: InstructionSample, answer: string): boolean {
  const truth = sample.answer;
  const saidAbsent = normalizeAnswer(answer) === ABSENT_ANSWER;
  if (saidAbsent || truth === ABSENT_ANSWER) return saidAbsent && truth === ABSENT_ANSWER;
  switch (sample.attribute) {
    case 'location': {
      const a = readLocation(answer);
      const t = readLocation(truth);
      // A zone the reference does not state (effusions, side-only findings) is not held against the answer.
      return a.side === t.side && (t.zone === undefined || a.zone === t.zone);
    }
    case 'severity': {
      const a = readSeverity(answer, sample.finding);
      return a !== undefined && a === readSeverity(truth, sample.finding);
    }
    case 'size': {
      const a = readSizeMm(answer);
      const t = readSizeMm(truth);
      return a !== undefined && t !== undefined && sizeMatches(a, t);
    }
    case 'tip': {
      const a = readTip(answer);
      return a !== undefined && a === readTip(truth);
    }
    case 'ctr': {
      const a = readCtrBucket(answer);
      return a !== undefined && a === readCtrBucket(truth);
    }
    case 'type': {
      const named = readFindings(answer);
      return sample.finding !== undefined && named.size === 1 && named.has(sample.finding);
    }
    default:
      return normalizeAnswer(answer) === normalizeAnswer(truth);
  }
}

function scoreReport(sample: InstructionSample, text: string, truth: CaseTruth | undefined) {
  const labels = labelReport(text);
  const known = truth ?? referenceReportTruth(sample.answer);
  const judgements: FindingJudgement[] = [];
  for (const finding of FINDING_KEYS) {
    const present = known.get(finding);
    if (present === undefined) continue;
    const asserted = labels[finding] === 'positive' || labels[finding] === 'uncertain';
    judgements.push({ finding, present, asserted, source: 'report' });
  }
  const read = judgements.filter((j) => j.asserted).map((j) => j.finding);
  return { score: setF1(judgements), read: read.join(', '), judgements };
}

/** Devices are not abnormalities (the list target omits them), so lists are judged on pathology only. */
function scoreList(sample: InstructionSample, answer: string, truth: CaseTruth | undefined) {
  const named = readFindings(answer);
  const reference = readFindings(sample.answer);
  const judgements: FindingJudgement[] = FINDING_KEYS.filter((k) => !CATALOGUE[k].device).map((finding) => ({
    finding,
    present: truth?.get(finding) ?? reference.has(finding),
    asserted: named.has(finding),
    source: 'abnormality_list' as const,
  }));
  const read = judgements.filter((j) => j.asserted).map((j) => j.finding);
  return { score: setF1(judgements), read: read.join(', '), judgements };
}

/**
 * `truth` (the case's known findings) is needed only for reports and lists of cases whose
 * references are incomplete; without it they are judged against the reference text.
 */
export function scorePrediction(
  sample: InstructionSample,
  prediction: Prediction,
  truth?: CaseTruth,
): SampleScore {
  const base = {
    sample_id: sample.id,
    case_id: sample.case_id,
    task: sample.task,
    confidence: prediction.answer_prob,
    ...(sample.finding ? { finding: sample.finding } : {}),
    ...(sample.attribute ? { attribute: sample.attribute } : {}),
  };
  if (sample.task === 'report') return { ...base, ...scoreReport(sample, prediction.text, truth) };
  const answer = splitTarget(prediction.text).answer;
  if (sample.task === 'abnormality_list') return { ...base, ...scoreList(sample, answer, truth) };
  if (sample.task === 'closed') {
    const said = readYesNo(answer);
    const present = sample.answer === 'yes';
    const judgements: FindingJudgement[] = sample.finding
      ? [{ finding: sample.finding, present, asserted: said === 'yes', source: 'closed' }]
      : [];
    return {
      ...base,
      score: said === sample.answer ? 1 : 0,
      read: said ?? normalizeAnswer(answer),
      judgements,
    };
  }
  if (sample.task === 'choice') {
    // "none" (the finding is absent) is always a valid reply, offered or not.
    const picked = readChoice(answer, [...(sample.options ?? [sample.answer]), ABSENT_ANSWER]);
    const correct = picked !== undefined && normalizeAnswer(picked) === normalizeAnswer(sample.answer);
    return { ...base, score: correct ? 1 : 0, read: picked ?? normalizeAnswer(answer), judgements: [] };
  }
  return {
    ...base,
    score: openCorrect(sample, answer) ? 1 : 0,
    read: normalizeAnswer(answer),
    judgements: [],
  };
}
