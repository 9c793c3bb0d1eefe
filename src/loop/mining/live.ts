/**
 * Live mining: the hard examples the server logged (risk above its threshold) and those clinicians
 * corrected through /v1/feedback. They seed similarity expansion: the pool holds labelled samples
 * whose images look like the ones the model was unsure of in production.
 *
 * Which rows: source 'live', status 'new' (flagged, no verdict yet) or 'labelled' (a verdict came
 * back). A 'correct' verdict still seeds: the model was right but unsure there, and its neighbours
 * may be wrong. Rows already 'mined'/'used' are not read again; moving the rows on (`setStatus`)
 * is the run's call once its selection is final.
 *
 * Direct training cases: a labelled row whose verdict is 'incorrect' with a `correct_answer` gives
 * a ready preference pair (chosen = the correction, rejected = the model's own answer), but only
 * when the server stored its de-identified image (image logging is off by default): without the
 * image there is nothing to condition the pair on. They come back separately, as `direct`, with
 * an image reference the pair builder resolves through `store.getImages`. Feedback on an answer
 * that was not flagged arrives as a labelled row too (made from the server's answer record); a
 * correction of such a confident answer carries `on_policy_pair: true` and comes back with
 * `confident` set, its pair generated as `live.confident_correction`.
 */
import type { FindingKey } from '../../data/types.ts';
import { normalizeAnswer, readFindings } from '../../eval/index.ts';
import type { ChexpoStore, HardExample, HardExampleStatus, HardExampleTask } from '../../store/contract.ts';
import { latestPermittedEntry } from '../../store/labels.ts';
import type { ImageRef } from '../types.ts';

export interface LiveLabel {
  verdict?: 'correct' | 'incorrect';
  correctAnswer?: string;
  comment?: string;
  /**
   * The server marked this correction as an on-policy pair: feedback corrected an answer that was
   * NOT flagged (the model was confident, `on_policy_pair` in the label JSON), the costliest error.
   */
  onPolicyPair?: boolean;
}

export interface LiveSeed {
  id: string;
  source: 'live';
  embedding: Float32Array;
  task: HardExampleTask;
  /** The one finding the question names, when it names exactly one (read by the report labeler). */
  finding?: FindingKey;
  risk: number;
  question: string;
  answer: string;
  label: LiveLabel | null;
}

export interface LiveTrainingCase {
  example: HardExample;
  correctAnswer: string;
  image: Extract<ImageRef, { kind: 'hard_example' }>;
  /** A correction of a confident (unflagged) answer (LiveLabel.onPolicyPair). */
  confident: boolean;
}

export interface LiveMining {
  seeds: LiveSeed[];
  direct: LiveTrainingCase[];
  /** Corrected rows left out of `direct` because no image was stored. */
  correctedWithoutImage: number;
  /** Corrections of confident (unflagged) answers among the corrected rows, with or without image. */
  confidentCorrections: number;
}

/**
 * A hard example's label: the feedback history (`{labels: [{verdict, correct_answer?, comment?,
 * by, as, at}, …]}`, the latest entry by a permitted author counts), a single feedback object
 * (stored before histories), or a plain reference answer written from the pool (then the verdict
 * compares it with the answer).
 */
export function parseLiveLabel(label: string | null, answer: string): LiveLabel | null {
  if (label === null || label.trim() === '') return null;
  try {
    const parsed = JSON.parse(label) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      // A label history: the latest entry by the answer's owner or an admin (none: no label yet).
      const doc = latestPermittedEntry(label);
      if (doc === undefined) return null;
      const out: LiveLabel = {};
      if (doc.verdict === 'correct' || doc.verdict === 'incorrect') out.verdict = doc.verdict;
      if (typeof doc.correct_answer === 'string' && doc.correct_answer.trim() !== '')
        out.correctAnswer = doc.correct_answer;
      if (typeof doc.comment === 'string') out.comment = doc.comment;
      if (doc.on_policy_pair === true) out.onPolicyPair = true;
      return out;
    }
  } catch {
    // Not JSON: a plain reference answer.
  }
  return {
    verdict: normalizeAnswer(label) === normalizeAnswer(answer) ? 'correct' : 'incorrect',
    correctAnswer: label,
  };
}

function questionFinding(question: string): FindingKey | undefined {
  const named = readFindings(question);
  return named.size === 1 ? [...named][0] : undefined;
}

export function liveSeed(example: HardExample): LiveSeed {
  const seed: LiveSeed = {
    id: example.id,
    source: 'live',
    embedding: example.embedding,
    task: example.task,
    risk: example.risk,
    question: example.question,
    answer: example.answer,
    label: parseLiveLabel(example.label, example.answer),
  };
  const finding = example.task === 'report' ? undefined : questionFinding(example.question);
  if (finding) seed.finding = finding;
  return seed;
}

export interface LiveOptions {
  /** Statuses read (default 'new' and 'labelled'). */
  statuses?: readonly HardExampleStatus[];
  /** At most this many rows, oldest first (default: all). */
  limit?: number;
}

export async function readLiveHardExamples(
  store: Pick<ChexpoStore, 'listHardExamples' | 'imageIds'>,
  options: LiveOptions = {},
): Promise<LiveMining> {
  const statuses = options.statuses ?? ['new', 'labelled'];
  const rows: HardExample[] = [];
  for (const status of statuses) rows.push(...(await store.listHardExamples({ status, source: 'live' })));
  rows.sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
  const kept = rows.slice(0, options.limit ?? rows.length);
  const seeds = kept.map(liveSeed);
  const corrected = seeds.filter(
    (s) => s.label?.verdict === 'incorrect' && s.label.correctAnswer !== undefined,
  );
  // Which rows hold an image, not the bytes: the pair builder's resolver reads those once, when training.
  const images = await store.imageIds(
    'hard_examples',
    corrected.map((s) => s.id),
  );
  const byId = new Map(kept.map((r) => [r.id, r]));
  const direct = corrected
    .filter((s) => images.has(s.id))
    .map((s) => ({
      example: byId.get(s.id)!,
      correctAnswer: s.label!.correctAnswer!,
      image: { kind: 'hard_example' as const, id: s.id },
      confident: s.label!.onPolicyPair === true,
    }));
  return {
    seeds,
    direct,
    correctedWithoutImage: corrected.length - direct.length,
    confidentCorrections: corrected.filter((s) => s.label?.onPolicyPair === true).length,
  };
}
