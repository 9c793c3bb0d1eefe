/**
 * Loop metrics from the two sources of truth: a finished run's record (outcome, duration, pairs by
 * kind, DPO final statistics) and the registry's manifests (each version's held-out primary score).
 * Scores come only from manifests so a version has one number whichever run looked at it.
 */
import type { RunRecordDoc } from '../../loop/record.ts';
import type { VersionEntry } from '../../registry/index.ts';
import type { RunRecord } from '../../store/index.ts';
import type { Metrics } from '../metrics.ts';

export type RunOutcome = 'promoted' | 'rejected' | 'failed';

/** Hard examples a round has not used yet (the pending gauge and the arrivals trigger). */
export const PENDING_HARD_EXAMPLES = "(status = 'new' OR status = 'labelled')";

/** The record document of a stored run, or null when its JSON is unreadable. */
export function parseRecord(run: RunRecord): RunRecordDoc | null {
  try {
    const doc = JSON.parse(run.record) as RunRecordDoc;
    return doc && typeof doc === 'object' ? doc : null;
  } catch {
    return null;
  }
}

/** A run the child left in promoted/rejected/failed is finished; running/succeeded means it stopped early. */
export function finishedOutcome(status: string): RunOutcome | null {
  return status === 'promoted' || status === 'rejected' || status === 'failed' ? status : null;
}

export function observeFinishedRun(
  metrics: Metrics,
  outcome: RunOutcome,
  durationSeconds: number,
  doc: RunRecordDoc | null,
): void {
  metrics.loopRuns.inc({ outcome });
  metrics.loopRunDuration.observe({ outcome }, durationSeconds);
  if (!doc) return;
  for (const [kind, n] of Object.entries(doc.counts?.pairs_by_kind ?? {})) {
    if (typeof n === 'number' && n > 0) metrics.loopPairs.inc({ kind }, n);
  }
  const dpo = doc.dpo;
  if (dpo && Number.isFinite(dpo.final_loss)) {
    metrics.loopDpoLoss.set(dpo.final_loss);
    metrics.loopDpoMargin.set(dpo.final_margin);
    metrics.loopDpoAccuracy.set(dpo.final_accuracy);
  }
}

/** The primary score in a manifest's `eval` (`chexpo.eval/1`: metrics.primary.value), or null. */
export function primaryScore(evalDoc: unknown): number | null {
  const metrics = (evalDoc as { metrics?: { primary?: { value?: unknown } } } | null)?.metrics;
  const value = metrics?.primary?.value;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * The eval-score gauge holds the served versions only (`served`: CURRENT and the version this
 * process serves), so its series stay bounded however many versions the registry accumulates;
 * the alert joins it with chexpo_model_version_info, which names exactly those.
 */
export function observeVersionScores(
  metrics: Metrics,
  entries: readonly VersionEntry[],
  served: Iterable<string | null | undefined>,
): void {
  const wanted = new Set(served);
  metrics.loopEvalScore.reset();
  for (const entry of entries) {
    const score = wanted.has(entry.version) ? primaryScore(entry.manifest?.eval) : null;
    if (score !== null) metrics.loopEvalScore.set({ version: entry.version }, score);
  }
}
