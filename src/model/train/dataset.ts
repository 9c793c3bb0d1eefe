/**
 * Training data from a data set directory written by `chexpo synth` or `chexpo import`: instruction
 * samples tokenised into training sequences, and each case's image decoded and preprocessed exactly as
 * serving does (decodeImage + toModelInput), cached once per case.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CATALOGUE } from '../../data/catalogue.ts';
import { decodeImage, toModelInput } from '../../data/image/index.ts';
import { Rng } from '../../data/random.ts';
import type { Tokenizer } from '../../data/tokenizer/index.ts';
import {
  FINDING_KEYS,
  type Finding,
  type FindingKey,
  type InstructionSample,
  type Split,
  type TaskType,
} from '../../data/types.ts';
import { type TrainingSequence, trainingSequence } from '../vlm/tokens.ts';

export interface DatasetExample {
  sample: InstructionSample;
  sequence: TrainingSequence;
}

export interface LoadedSplit {
  examples: DatasetExample[];
  /** Model input (imageSize², normalised) by case id. */
  images: Map<string, Float32Array>;
  /** Samples dropped because their text exceeds maxSeqLen. */
  tooLong: number;
  /** Per case: presence labels in FINDING_KEYS order and a mask of the known ones (the finding head). */
  findings?: Map<string, { labels: Float32Array; mask: Float32Array }>;
}

/**
 * A case's findings as 0/1 labels and a known-mask in FINDING_KEYS order. The mask carries each known
 * label's weight (1 unless `weights` names the finding), so the head's masked mean becomes a weighted one.
 */
export function findingTargets(
  findings: readonly Finding[] | undefined,
  weights: FindingWeights = {},
): {
  labels: Float32Array;
  mask: Float32Array;
} {
  const labels = new Float32Array(FINDING_KEYS.length);
  const mask = new Float32Array(FINDING_KEYS.length);
  for (const f of findings ?? []) {
    const i = FINDING_KEYS.indexOf(f.name);
    if (i < 0) continue;
    mask[i] = weights[f.name] ?? 1;
    labels[i] = f.present ? 1 : 0;
  }
  return { labels, mask };
}

/** Per-finding weight of the finding head's BCE (`--finding-weight`); unnamed findings weigh 1. */
export type FindingWeights = Partial<Record<FindingKey, number>>;

export interface LoadOptions {
  tokenizer: Tokenizer;
  /** Weights of the finding head's BCE per finding (default 1 each). */
  findingWeights?: FindingWeights;
  imageSize: number;
  maxSeqLen: number;
  /** Keep only the first N cases of the split (in file order); all when absent. */
  maxCases?: number;
  /**
   * Loss weight of the tokens that carry the answer (default 1): the short answer of a question, and
   * finding, side, severity and negation words of a report. The rationale's template text otherwise
   * outweighs the one token that says "yes" or "no"; the weighted mean keeps the loss scale.
   */
  answerWeight?: number;
}

/** Words that carry a report's findings (names, sides, severities, negation). */
const REPORT_KEY_WORDS: ReadonlySet<string> = new Set([
  ...Object.values(CATALOGUE).flatMap((spec) => [
    ...spec.display.split(' '),
    ...Object.values(spec.severityWords ?? {}),
  ]),
  'no',
  'left',
  'right',
  'bilateral',
  'normal',
  'clear',
  'mm',
]);

/** Per-token loss weights over a training sequence's mask. */
export function weightAnswerTokens(
  sequence: TrainingSequence,
  sample: Pick<InstructionSample, 'task' | 'answer'>,
  tokenizer: Tokenizer,
  weight: number,
): TrainingSequence {
  if (weight === 1) return sequence;
  const start = sequence.lossMask.indexOf(1);
  const lossMask = [...sequence.lossMask];
  if (sample.task === 'report') {
    const keys = new Set(
      [...REPORT_KEY_WORDS].map((w) => tokenizer.idOf(w)).filter((id) => id !== undefined),
    );
    for (let t = start; t < lossMask.length; t++) if (keys.has(sequence.targetIds[t])) lossMask[t] = weight;
  } else {
    const n = tokenizer.encode(sample.answer).ids.length;
    for (let t = start; t < Math.min(lossMask.length, start + n); t++) lossMask[t] = weight;
  }
  return { ...sequence, lossMask };
}

/** A row of a data set's cases/<split>.jsonl, as far as training reads it. */
export interface CaseRow {
  id: string;
  images: { png16?: string; source?: string };
  findings?: Finding[];
}

export async function readJsonl<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** The image file of a case: synth writes paths relative to the data set, import writes absolute ones. */
export function caseImagePath(dataDir: string, row: CaseRow): string {
  const path = row.images.png16 ?? row.images.source;
  if (!path) throw new Error(`case ${row.id} has no image`);
  return isAbsolute(path) ? path : join(dataDir, path);
}

export async function loadCaseImage(dataDir: string, row: CaseRow, imageSize: number): Promise<Float32Array> {
  const decoded = decodeImage(new Uint8Array(await readFile(caseImagePath(dataDir, row))));
  return toModelInput(decoded, imageSize);
}

export async function loadSplit(dataDir: string, split: Split, o: LoadOptions): Promise<LoadedSplit> {
  let cases = await readJsonl<CaseRow>(join(dataDir, 'cases', `${split}.jsonl`));
  if (o.maxCases !== undefined) cases = cases.slice(0, o.maxCases);
  const images = new Map<string, Float32Array>();
  const findings = new Map<string, { labels: Float32Array; mask: Float32Array }>();
  for (const row of cases) {
    images.set(row.id, await loadCaseImage(dataDir, row, o.imageSize));
    findings.set(row.id, findingTargets(row.findings, o.findingWeights));
  }
  const examples: DatasetExample[] = [];
  let tooLong = 0;
  for (const sample of await readJsonl<InstructionSample>(join(dataDir, 'instructions', `${split}.jsonl`))) {
    if (!images.has(sample.case_id)) continue;
    const prompt = trainingSequence(
      o.tokenizer,
      sample.question,
      sample.target_text,
      Number.POSITIVE_INFINITY,
    );
    if (prompt.inputIds.length > o.maxSeqLen) {
      tooLong++;
      continue;
    }
    examples.push({ sample, sequence: weightAnswerTokens(prompt, sample, o.tokenizer, o.answerWeight ?? 1) });
  }
  return { examples, images, tooLong, findings };
}

/**
 * The batches of one epoch as example indices: shuffled by (seed, epoch), then sorted by length inside
 * windows of 32 batches so that a batch's sequences have similar lengths (little padding), and the batch
 * order shuffled again. Pure in its arguments, which is what makes resuming from a checkpoint exact.
 */
export function epochBatches(
  lengths: readonly number[],
  batchSize: number,
  seed: number,
  epoch: number,
): number[][] {
  const rng = Rng.derive(seed, `epoch:${epoch}`);
  const order = rng.shuffle(Array.from(lengths, (_, i) => i));
  const window = batchSize * 32;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += window) {
    const chunk = order.slice(start, start + window).sort((a, b) => lengths[a] - lengths[b] || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return rng.shuffle(batches);
}

const TASKS: readonly TaskType[] = ['closed', 'choice', 'open', 'abnormality_list', 'report'];

/** `report=3,abnormality_list=2` → repeat factors by task (whole numbers ≥ 1). */
export function parseOversample(spec: string): Partial<Record<TaskType, number>> {
  const out: Partial<Record<TaskType, number>> = {};
  for (const part of spec.split(',').filter((p) => p.trim().length > 0)) {
    const [task, k] = part.split('=').map((x) => x.trim());
    const factor = Number(k);
    if (!TASKS.includes(task as TaskType) || !Number.isInteger(factor) || factor < 1)
      throw new Error(
        `--oversample: '${part}' is not <task>=<whole number ≥ 1> (tasks: ${TASKS.join(', ')})`,
      );
    out[task as TaskType] = factor;
  }
  return out;
}

/**
 * `--finding-weight nodule=4,central_line=4`: up-weights findings the encoder has not learnt to see, so
 * their gradient is not drowned by the findings it already separates.
 */
export function parseFindingWeights(spec: string): FindingWeights {
  const out: FindingWeights = {};
  for (const part of spec.split(',').filter((p) => p.trim().length > 0)) {
    const [name, w] = part.split('=').map((x) => x.trim());
    const weight = Number(w);
    if (!FINDING_KEYS.includes(name as FindingKey) || !Number.isFinite(weight) || weight <= 0)
      throw new Error(
        `--finding-weight: '${part}' is not <finding>=<number > 0> (findings: ${FINDING_KEYS.join(', ')})`,
      );
    out[name as FindingKey] = weight;
  }
  return out;
}

/**
 * Repeats the examples of some tasks (reports are one sample per case but the longest and hardest
 * target, so an epoch under-trains them). Repeats are appended, so batches stay a pure function of the
 * (seed, epoch) and a checkpoint still resumes exactly.
 */
export function oversampleTasks(split: LoadedSplit, factors: Partial<Record<TaskType, number>>): LoadedSplit {
  const extra: DatasetExample[] = [];
  for (const e of split.examples) for (let k = 1; k < (factors[e.sample.task] ?? 1); k++) extra.push(e);
  return extra.length === 0 ? split : { ...split, examples: [...split.examples, ...extra] };
}
