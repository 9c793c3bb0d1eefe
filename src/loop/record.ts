/**
 * The run record: the JSON document a loop run writes to the store's `runs` table (column `record`)
 * and to `<run dir>/run.json`. The server's trainer supervisor reads it to update the loop metrics.
 */
import type { PairKind, RunStatus } from '../store/contract.ts';
import type { RunRecordDpo } from './dpo/metrics.ts';

export type RunTrigger = 'manual' | 'schedule' | 'hard_examples' | 'admin' | 'experiment';

export interface RunRecordDoc {
  schema: 'chexpo.run/1';
  id: string;
  trigger: RunTrigger;
  status: RunStatus;
  started_at: number;
  finished_at: number | null;
  /** The version the run trained from: the miner and the DPO reference (CURRENT unless the run was given a base). */
  base_version: string;
  /** CURRENT when the run started: the gate's baseline and what a promotion replaces (absent in older records: base_version). */
  served_version?: string;
  /** The published candidate, when the run got that far. */
  candidate_version: string | null;
  /** Effective configuration (defaults filled in). */
  config: Record<string, unknown>;
  counts: {
    scored: number;
    hard: number;
    live_seeds: number;
    expanded: number;
    selected: number;
    pairs: number;
    pairs_by_kind: Partial<Record<PairKind, number>>;
    /** `finding/task` → selected samples. */
    selected_by_cell: Record<string, number>;
  };
  /** Share of retrieved neighbours that were really hard (wrong or unsure). */
  retrieval_precision: number | null;
  dpo: RunRecordDpo | null;
  /** The candidate's fitted closed-answer operating point (config operatingPoint.fit), absent otherwise. */
  operating_point?: {
    closed_yes_threshold: number;
    limits: { maxAdversarialYes: number; maxClosedHallucination: number };
    met: boolean;
  };
  /** Primary scores on the held-out test subset (never mined). */
  eval: { split: 'test'; samples: number; seed: number; current: number; candidate: number } | null;
  /** The promotion gate's decision and every check's evidence. */
  gate: { promote: boolean; reasons: string[]; checks: unknown[] } | null;
  /** Wall-clock seconds per stage. */
  durations: Record<string, number>;
  error: { code: string; message: string } | null;
}

/** A record with nothing counted yet: what a run writes first, and what a supervisor writes for a run that died. */
export function emptyRunRecord(fields: {
  id: string;
  trigger: RunTrigger;
  status: RunStatus;
  started_at: number;
  base_version: string;
  served_version?: string;
  config?: Record<string, unknown>;
}): RunRecordDoc {
  return {
    schema: 'chexpo.run/1',
    ...fields,
    served_version: fields.served_version ?? fields.base_version,
    finished_at: null,
    candidate_version: null,
    config: fields.config ?? {},
    counts: {
      scored: 0,
      hard: 0,
      live_seeds: 0,
      expanded: 0,
      selected: 0,
      pairs: 0,
      pairs_by_kind: {},
      selected_by_cell: {},
    },
    retrieval_precision: null,
    dpo: null,
    eval: null,
    gate: null,
    durations: {},
    error: null,
  };
}
