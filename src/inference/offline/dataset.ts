/**
 * Reading a data set directory (`chexpo synth` / `chexpo import` layout) for evaluation: the cases and
 * instruction samples of a split, a seeded subset, and case images as model inputs with their
 * intensity statistics. Images are preprocessed exactly as training and serving do.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../data/random.ts';
import type { InstructionSample, LabelledCase, Split } from '../../data/types.ts';
import { loadCaseImage, readJsonl } from '../../model/train/dataset.ts';
import { EvaluationRunError } from '../errors.ts';

/** A case row: labels plus its image (`png16` relative to the data set, or an absolute `source`). */
export interface DataCase extends LabelledCase {
  images: { png16?: string; source?: string };
}

export interface SplitData {
  cases: DataCase[];
  samples: InstructionSample[];
}

export async function readSplit(dataDir: string, split: Split): Promise<SplitData> {
  const casesPath = join(dataDir, 'cases', `${split}.jsonl`);
  const samplesPath = join(dataDir, 'instructions', `${split}.jsonl`);
  for (const path of [casesPath, samplesPath])
    if (!existsSync(path))
      throw new EvaluationRunError('BAD_DATA', `${path} not found: not a chexpo data set?`);
  const cases = await readJsonl<DataCase>(casesPath);
  const known = new Set(cases.map((c) => c.id));
  const samples = await readJsonl<InstructionSample>(samplesPath);
  const orphan = samples.find((s) => !known.has(s.case_id));
  if (orphan)
    throw new EvaluationRunError('BAD_DATA', `sample ${orphan.id} refers to unknown case ${orphan.case_id}`);
  return { cases, samples };
}

/**
 * At most `limit` samples, taken whole case by whole case in a seeded case order (so a subset keeps
 * each case's questions together, as the case bootstrap wants); the last case may be cut short.
 * Without a limit: every sample, in file order.
 */
export function selectSamples(
  samples: readonly InstructionSample[],
  limit: number | undefined,
  seed: number,
): InstructionSample[] {
  if (limit === undefined || limit >= samples.length) return [...samples];
  if (!Number.isInteger(limit) || limit < 1)
    throw new EvaluationRunError('BAD_OPTION', `limit must be a whole number ≥ 1: ${limit}`);
  const byCase = new Map<string, InstructionSample[]>();
  for (const s of samples) byCase.set(s.case_id, [...(byCase.get(s.case_id) ?? []), s]);
  const order = Rng.derive(seed, 'eval-subset').shuffle([...byCase.keys()]);
  const out: InstructionSample[] = [];
  for (const id of order) {
    out.push(...byCase.get(id)!.slice(0, limit - out.length));
    if (out.length >= limit) break;
  }
  return out;
}

/** Up to `n` items in a seeded order (all when n ≥ length). */
export function seededPick<T>(items: readonly T[], n: number, seed: number, label: string): T[] {
  return Rng.derive(seed, label)
    .shuffle([...items])
    .slice(0, n);
}

/** The model input (imageSize², normalised) of a case. */
export function caseInput(dataDir: string, c: DataCase, imageSize: number): Promise<Float32Array> {
  return loadCaseImage(dataDir, c, imageSize);
}
