/**
 * Balancing the selection so frequent easy classes do not dominate the preference set: at most
 * `capPerCell` samples per finding × task cell (samples without a finding — lists, reports, the
 * ratio question — fall in the 'none' row), and at most `budget` in all.
 *
 * Inside a cell: wrong before unsure, then lower confidence first; ties broken by a seeded shuffle
 * (the same seed gives the same choice). When the capped cells together exceed the budget, cells
 * are filled round-robin (in a seeded cell order), one best remaining sample per cell per round, so
 * a small cell keeps its few samples and large cells shrink evenly.
 *
 * A sample selected twice (e.g. wrong in the benchmark and a neighbour of a live seed) keeps its
 * strongest reason: live feedback, wrong, low confidence, similar to live, similar to hard.
 */
import { Rng } from '../../data/random.ts';
import type { TaskType } from '../../data/types.ts';
import type { HardReason, SelectedSample } from '../types.ts';
import { MINING_TASKS } from './criterion.ts';
import { MiningError } from './errors.ts';

export interface BalanceOptions {
  /** At most this many samples in all. */
  budget: number;
  /** At most this many per finding × task cell. */
  capPerCell: number;
  /** Seed of the tie-breaks and of the round-robin order (default 0). */
  seed?: number;
}

const REASON_RANK: Record<HardReason, number> = {
  live_feedback: 0,
  wrong: 1,
  low_confidence: 2,
  similar_to_live: 3,
  similar_to_hard: 4,
};

/** The preference-set budget: `fraction` of the SFT sample count (the paper's 5%), at least 1. */
export function preferenceBudget(sftSampleCount: number, fraction = 0.05): number {
  if (!(fraction > 0 && fraction <= 1))
    throw new MiningError('BAD_OPTION', `fraction must be in (0, 1]: ${fraction}`);
  if (!Number.isInteger(sftSampleCount) || sftSampleCount < 0)
    throw new MiningError('BAD_OPTION', `sftSampleCount must be a whole number ≥ 0: ${sftSampleCount}`);
  return sftSampleCount === 0 ? 0 : Math.max(1, Math.floor(sftSampleCount * fraction));
}

/** `finding/task`, the run record's `selected_by_cell` key; 'none' when the sample names no finding. */
export function cellKey(selected: SelectedSample): string {
  const s = selected.scored.sample;
  return `${s.finding ?? 'none'}/${s.task}`;
}

/** One entry per sample id, keeping the strongest reason (the first of equals). */
export function dedupeSelection(selected: readonly SelectedSample[]): SelectedSample[] {
  const best = new Map<string, SelectedSample>();
  for (const s of selected) {
    const id = s.scored.sample.id;
    const seen = best.get(id);
    if (!seen || REASON_RANK[s.reason] < REASON_RANK[seen.reason]) best.set(id, s);
  }
  return [...best.values()];
}

export function balanceSelection(
  selected: readonly SelectedSample[],
  options: BalanceOptions,
): SelectedSample[] {
  const { budget, capPerCell } = options;
  if (!Number.isInteger(budget) || budget < 0)
    throw new MiningError('BAD_OPTION', `budget must be a whole number ≥ 0: ${budget}`);
  if (!Number.isInteger(capPerCell) || capPerCell < 1)
    throw new MiningError('BAD_OPTION', `capPerCell must be a whole number ≥ 1: ${capPerCell}`);
  const seed = options.seed ?? 0;
  // Shuffle first, then a stable sort: equal (wrongness, confidence) keep the seeded order.
  const shuffled = Rng.derive(seed, 'balance-ties').shuffle(
    dedupeSelection(selected).sort((a, b) => a.scored.sample.id.localeCompare(b.scored.sample.id)),
  );
  const cells = new Map<string, SelectedSample[]>();
  for (const s of shuffled) {
    const key = cellKey(s);
    cells.set(key, [...(cells.get(key) ?? []), s]);
  }
  const ranked = [...cells.keys()].sort().map((key) =>
    cells
      .get(key)!
      .sort(
        (a, b) =>
          Number(a.scored.correct) - Number(b.scored.correct) || a.scored.confidence - b.scored.confidence,
      )
      .slice(0, capPerCell),
  );
  const order = Rng.derive(seed, 'balance-cells').shuffle(ranked);
  const out: SelectedSample[] = [];
  for (let round = 0; out.length < budget; round++) {
    let took = false;
    for (const cell of order) {
      if (round >= cell.length || out.length >= budget) continue;
      out.push(cell[round]);
      took = true;
    }
    if (!took) break;
  }
  return out;
}

export interface Distribution {
  /** Row labels (findings, 'none' last) and column labels (tasks) that occur. */
  findings: string[];
  tasks: TaskType[];
  /** `finding/task` → count. */
  cells: Record<string, number>;
  byFinding: Record<string, number>;
  byTask: Partial<Record<TaskType, number>>;
  byReason: Partial<Record<HardReason, number>>;
  total: number;
}

export function distribution(selected: readonly SelectedSample[]): Distribution {
  const cells: Record<string, number> = {};
  const byFinding: Record<string, number> = {};
  const byTask: Partial<Record<TaskType, number>> = {};
  const byReason: Partial<Record<HardReason, number>> = {};
  for (const s of selected) {
    const finding = s.scored.sample.finding ?? 'none';
    const task = s.scored.sample.task;
    cells[cellKey(s)] = (cells[cellKey(s)] ?? 0) + 1;
    byFinding[finding] = (byFinding[finding] ?? 0) + 1;
    byTask[task] = (byTask[task] ?? 0) + 1;
    byReason[s.reason] = (byReason[s.reason] ?? 0) + 1;
  }
  const findings = Object.keys(byFinding).sort(
    (a, b) => Number(a === 'none') - Number(b === 'none') || a.localeCompare(b),
  );
  return {
    findings,
    tasks: MINING_TASKS.filter((t) => byTask[t] !== undefined),
    cells,
    byFinding,
    byTask,
    byReason,
    total: selected.length,
  };
}

/** Plain-text table: findings down, tasks across, totals in the last row and column. */
export function formatDistribution(d: Distribution): string {
  const header = ['finding', ...d.tasks, 'total'];
  const rows = d.findings.map((f) => [
    f,
    ...d.tasks.map((t) => String(d.cells[`${f}/${t}`] ?? 0)),
    String(d.byFinding[f]),
  ]);
  rows.push(['total', ...d.tasks.map((t) => String(d.byTask[t] ?? 0)), String(d.total)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const reasons = Object.entries(d.byReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  return [line(header), ...rows.map(line), `by reason: ${reasons || 'none'}`].join('\n');
}
