/** Pair counts for the run record: by kind, by finding × task, and by generator rule. */
import type { PairKind } from '../../store/contract.ts';
import { PAIR_KINDS } from '../../store/contract.ts';
import type { PairCandidate } from '../types.ts';

export interface PairSummary {
  total: number;
  byKind: Partial<Record<PairKind, number>>;
  /** `finding/task` → pairs (`none/<task>` for samples without a finding, e.g. reports). */
  byCell: Record<string, number>;
  byGenerator: Record<string, number>;
  /** Distinct samples that gave at least one pair. */
  samples: number;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export function summarizePairs(candidates: readonly PairCandidate[]): PairSummary {
  const byKind: Partial<Record<PairKind, number>> = {};
  const byCell: Record<string, number> = {};
  const byGenerator: Record<string, number> = {};
  const samples = new Set<string>();
  for (const c of candidates) {
    byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
    bump(byCell, `${c.provenance.finding ?? 'none'}/${c.provenance.task}`);
    bump(byGenerator, c.provenance.generator);
    samples.add(c.provenance.sample_id);
  }
  return { total: candidates.length, byKind, byCell, byGenerator, samples: samples.size };
}

/** Plain-text tables: kinds in PAIR_KINDS order, then cells by count (largest first). */
export function formatPairSummary(s: PairSummary): string {
  const pad = (text: string, n: number): string => text.padEnd(n);
  const lines = [`pairs: ${s.total} from ${s.samples} samples`, '', 'by kind:'];
  for (const kind of PAIR_KINDS) {
    const n = s.byKind[kind] ?? 0;
    const share = s.total ? ((100 * n) / s.total).toFixed(1) : '0.0';
    lines.push(`  ${pad(kind, 22)}${String(n).padStart(6)}  ${share.padStart(5)}%`);
  }
  lines.push('', 'by finding/task:');
  const cells = Object.entries(s.byCell).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [cell, n] of cells) lines.push(`  ${pad(cell, 34)}${String(n).padStart(6)}`);
  return `${lines.join('\n')}\n`;
}
