/**
 * PairCandidate ⇄ the store's PreferencePair row. Ids are stable (a hash of run id and index), the
 * chosen image is the row's `image_ref`, and the provenance JSON carries both image references so
 * an image-counterfactual pair round-trips whole.
 */
import { createHash } from 'node:crypto';
import { PAIR_KINDS, type PreferencePair } from '../../store/contract.ts';
import type { ImageRef, PairCandidate, PairProvenance } from '../types.ts';
import { PairsError } from './errors.ts';
import { decodeImageRef, encodeImageRef } from './image-ref.ts';

/** Provenance as stored: the candidate's provenance plus both image references. */
export interface StoredProvenance extends PairProvenance {
  chosen_image: ImageRef;
  rejected_image: ImageRef;
}

export function pairId(runId: string, index: number): string {
  return createHash('sha256').update(`${runId}\u0000${index}`).digest('hex').slice(0, 24);
}

export function toPreferencePairs(
  candidates: readonly PairCandidate[],
  round: number,
  runId: string,
): PreferencePair[] {
  return candidates.map((c, i) => {
    const provenance: StoredProvenance = {
      ...c.provenance,
      chosen_image: c.chosenImage,
      rejected_image: c.rejectedImage,
    };
    return {
      id: pairId(runId, i),
      round,
      prompt: c.prompt,
      image_ref: encodeImageRef(c.chosenImage),
      chosen: c.chosen,
      rejected: c.rejected,
      kind: c.kind,
      weight: c.weight,
      provenance: JSON.stringify(provenance),
    };
  });
}

export function fromPreferencePair(row: PreferencePair): PairCandidate {
  if (!PAIR_KINDS.includes(row.kind))
    throw new PairsError('PAIRS_BAD_ROW', `pair ${row.id}: unknown kind ${row.kind}`);
  let stored: StoredProvenance;
  try {
    stored = JSON.parse(row.provenance) as StoredProvenance;
  } catch {
    throw new PairsError('PAIRS_BAD_ROW', `pair ${row.id}: provenance is not JSON`);
  }
  const { chosen_image, rejected_image, ...provenance } = stored;
  const chosenImage = decodeImageRef(row.image_ref);
  return {
    prompt: row.prompt,
    chosen: row.chosen,
    rejected: row.rejected,
    kind: row.kind,
    weight: row.weight,
    chosenImage,
    // Rows written by other tools may omit the references: the rejected side then shares the image.
    rejectedImage: rejected_image ? decodeImageRef(JSON.stringify(rejected_image)) : chosenImage,
    provenance,
  };
}
