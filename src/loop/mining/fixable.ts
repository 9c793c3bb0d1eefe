/**
 * Which mined errors preference pairs can fix. A sample is `invisible` when the finding it asks
 * about is below the visibility threshold at the model's input size (eval/visibility.ts: median
 * contrast-to-clutter < 1), so no pair can teach the model to see it; `prior_driven` when the
 * model gives the same answer on another patient's image (a seeded derangement of the cases, as
 * in the evaluation controls), so the answer comes from the question, not the image. Text pairs
 * on such samples teach the prior; only image counterfactuals (same text, edited image) address
 * an answer the image does not drive, so they are the one kind kept for prior-driven samples, and
 * invisible ones get no pair.
 */
import { splitTarget } from '../../data/instructions/target.ts';
import type { FindingKey } from '../../data/types.ts';
import {
  type DataCase,
  derangement,
  type OpenedVersion,
  predictSamples,
} from '../../inference/offline/index.ts';
import type { PairKind } from '../../store/contract.ts';
import type { Fixable, ScoredSample, SelectedSample } from '../types.ts';

export interface FixableOptions {
  /** Findings visible at the model's input size (`visibleFindings` in eval/visibility.ts). */
  visibleFindings: ReadonlySet<FindingKey>;
  /** Seed of the image derangement. */
  seed: number;
  /** Generation requests per batch. */
  batchSize: number;
  /** Token budget per answer (default: the model's maxSeqLen, as in scoring). */
  maxTokens?: number;
}

/** What is compared across images: the answer part, lower case, spaces collapsed (a report: all of it). */
export function comparableAnswer(task: string, text: string): string {
  const answer = task === 'report' ? text : splitTarget(text).answer;
  return answer.toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * The scored samples with `fixable` set. Samples without a finding are never `invisible`; samples
 * whose prompt does not fit (nothing generated on either image) and data sets of a single case
 * (no other image to swap in) stay `yes`.
 */
export async function markFixable(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  scored: readonly ScoredSample[],
  o: FixableOptions,
): Promise<ScoredSample[]> {
  const invisible = (s: ScoredSample) =>
    s.sample.finding !== undefined && !o.visibleFindings.has(s.sample.finding);
  const check = scored.filter((s) => !invisible(s) && !s.prediction.prompt_too_long);
  // Deranged over every case (not just these), so a case's swapped image does not depend on the selection.
  const swapped =
    cases.length < 2 || check.length === 0
      ? []
      : await predictSamples(
          model,
          dataDir,
          cases,
          check.map((s) => s.sample),
          {
            batchSize: o.batchSize,
            maxTokens: o.maxTokens,
            imageFrom: derangement(
              cases.map((c) => c.id),
              o.seed,
            ),
          },
        );
  const swappedText = new Map(swapped.map((p) => [p.sample_id, p.text]));
  return scored.map((s) => {
    let fixable: Fixable = 'yes';
    const other = swappedText.get(s.sample.id);
    if (invisible(s)) fixable = 'invisible';
    else if (
      other !== undefined &&
      comparableAnswer(s.sample.task, other) === comparableAnswer(s.sample.task, s.prediction.text)
    )
      fixable = 'prior_driven';
    return { ...s, fixable };
  });
}

/**
 * The pair kinds still drafted for a prior-driven sample: image counterfactuals, which target exactly an
 * answer the image does not drive. An invisible finding gets none: its edit cannot be seen at the model's
 * input size, so the two images of the pair are the same to the model.
 */
export const PRIOR_DRIVEN_KINDS: ReadonlySet<PairKind> = new Set<PairKind>(['image_counterfactual']);

/** Whether `kind` may draft a pair for this sample: always unless it is marked unfixable (unmarked: as before). */
export function keepFixable(selected: SelectedSample, kind: PairKind): boolean {
  const f = selected.scored.fixable;
  if (f === 'invisible') return false;
  return f === undefined || f === 'yes' || PRIOR_DRIVEN_KINDS.has(kind);
}

/** How many samples are marked each way. */
export function fixableCounts(scored: readonly Pick<ScoredSample, 'fixable'>[]): Record<Fixable, number> {
  const out: Record<Fixable, number> = { yes: 0, invisible: 0, prior_driven: 0 };
  for (const s of scored) if (s.fixable) out[s.fixable]++;
  return out;
}
