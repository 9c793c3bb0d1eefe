/**
 * Held-out preference pairs: the same pair recipes applied to validation patients the loop never
 * mines, answered by the model being trained. Scoring them before and after DPO tells learning the
 * preference (held-out accuracy rises with the training-pair accuracy) from memorising the pairs.
 */
import type { OpenedVersion, SplitData } from '../../inference/offline/index.ts';
import { selectSamples } from '../../inference/offline/index.ts';
import { scoreSamples } from '../mining/index.ts';
import type { PairCandidate, SelectedSample } from '../types.ts';
import { type ArmName, type ArmSelections, armPairs } from './arms.ts';

export async function heldOutSelection(
  model: OpenedVersion,
  dataDir: string,
  validation: SplitData,
  limit: number,
  seed: number,
): Promise<SelectedSample[]> {
  const samples = selectSamples(validation.samples, limit, seed + 1);
  const scored = await scoreSamples(model, dataDir, validation.cases, samples, { batchSize: 32 });
  return scored.map((s) => ({ scored: s, reason: s.correct ? 'low_confidence' : 'wrong' }));
}

/** An arm's pairs on the held-out selection (every selection of the arm reads the same samples). */
export function heldOutPairs(
  arm: ArmName,
  selection: SelectedSample[],
  seed: number,
  pairs: Parameters<typeof armPairs>[3],
): PairCandidate[] {
  const s: ArmSelections = { random: selection, confidence: selection, confSim: selection };
  return armPairs(arm, s, seed, pairs);
}
