import { createHash } from 'node:crypto';
import type { Split } from './types.ts';

export interface SplitFractions {
  validation: number;
  test: number;
}

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { validation: 0.1, test: 0.1 };

/**
 * Assigns a patient to a split from a hash of its id alone, so every study of one patient lands in the
 * same split (no patient leakage) and the assignment never changes when the data set grows.
 */
export function splitForPatient(
  patientId: string,
  fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS,
): Split {
  const digest = createHash('sha256').update(`chexpo-split:${patientId}`).digest();
  const u = digest.readUInt32BE(0) / 2 ** 32;
  if (u < fractions.test) return 'test';
  if (u < fractions.test + fractions.validation) return 'validation';
  return 'train';
}

/**
 * The seed of the i-th case of a synthetic data set. An offset followed by the murmur3 finaliser is a
 * bijection of 32-bit integers, so the cases of one data set never share a seed (and so a patient).
 */
export function caseSeed(baseSeed: number, index: number): number {
  let h = (Math.imul(baseSeed >>> 0, 0x9e3779b1) + index) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
