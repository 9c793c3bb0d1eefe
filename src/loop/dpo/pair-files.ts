/**
 * The inputs `chexpo train dpo` reads from files: preference pairs (one JSON PairCandidate a line) and
 * the images of `case` references from a data set directory.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCaseImage, readJsonl } from '../../model/train/dataset.ts';
import type { ImageRef, PairCandidate } from '../types.ts';
import type { ImageResolveFn } from './data.ts';
import { DpoError } from './errors.ts';

/** A data set's case row (the fields loadCaseImage reads). */
type CaseRow = Parameters<typeof loadCaseImage>[1];

/** Case ids → data set rows, from every split file the data set has. */
async function caseRows(dataDir: string): Promise<Map<string, CaseRow>> {
  const rows = new Map<string, CaseRow>();
  for (const split of ['train', 'validation', 'test']) {
    const path = join(dataDir, 'cases', `${split}.jsonl`);
    const list = await readJsonl<CaseRow>(path).catch(() => []);
    for (const row of list) rows.set(row.id, row);
  }
  return rows;
}

/** Resolves `case` references to the data set's own images (decoded and preprocessed as serving does). */
export async function caseImageResolver(dataDir: string, imageSize: number): Promise<ImageResolveFn> {
  const rows = await caseRows(dataDir);
  return async (ref: ImageRef) => {
    const row = ref.kind === 'case' ? rows.get(ref.case_id) : undefined;
    if (!row)
      throw new DpoError('DPO_UNRESOLVED_IMAGE', `${JSON.stringify(ref)} is not a case of ${dataDir}`);
    return loadCaseImage(dataDir, row, imageSize);
  };
}

/** One PairCandidate per non-empty line; a line without the fields DPO reads is an error naming it. */
export async function readPairsFile(path: string): Promise<PairCandidate[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const pairs: PairCandidate[] = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    let p: PairCandidate;
    try {
      p = JSON.parse(line) as PairCandidate;
    } catch {
      throw new DpoError('DPO_BAD_PAIRS_FILE', `${path}:${i + 1} is not JSON`);
    }
    const ok =
      typeof p.prompt === 'string' &&
      typeof p.chosen === 'string' &&
      typeof p.rejected === 'string' &&
      typeof p.weight === 'number' &&
      typeof p.chosenImage?.kind === 'string' &&
      typeof p.rejectedImage?.kind === 'string';
    if (!ok) throw new DpoError('DPO_BAD_PAIRS_FILE', `${path}:${i + 1} is not a PairCandidate`);
    pairs.push(p);
  });
  return pairs;
}
