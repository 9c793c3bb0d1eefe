/**
 * Findings the model's own encoder does not see: its finding head (a linear read-out of the patch
 * features) separates them no better than `minAuroc` on validation cases. The phantom visibility
 * table says what the pixels show; this says what the model extracts from them. A pair about a
 * finding the encoder cannot see moves only the answer prior (docs/results.md), so such samples are
 * marked invisible like those the table calls invisible.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FindingKey } from '../../data/types.ts';
import { type FindingHeadScore, probeFindingHead } from '../../inference/offline/finding-head.ts';
import type { LoadedVersion } from '../../model/vlm/version.ts';

export interface EncoderSightOptions {
  /** Findings whose head AUROC is below this are unseen; 0 turns the check off. */
  minAuroc: number;
  /** Validation cases probed (the first N of the split). */
  cases: number;
  threads?: number;
}

export interface EncoderSight {
  unseen: Set<FindingKey>;
  /** Empty when the check is off, the model has no head or the data set no validation split. */
  scores: FindingHeadScore[];
}

export async function encoderSight(
  version: LoadedVersion,
  dataDir: string,
  o: EncoderSightOptions,
): Promise<EncoderSight> {
  const none = { unseen: new Set<FindingKey>(), scores: [] };
  if (o.minAuroc <= 0 || !version.config.findingHead) return none;
  if (!existsSync(join(dataDir, 'cases', 'validation.jsonl'))) return none;
  const scores = await probeFindingHead(version.dir, dataDir, 'validation', {
    cases: o.cases,
    threads: o.threads,
  });
  // A finding with one class only among the probed cases is not measured, so it is not dropped.
  const unseen = new Set(scores.filter((s) => s.auroc < o.minAuroc).map((s) => s.finding));
  return { unseen, scores };
}
