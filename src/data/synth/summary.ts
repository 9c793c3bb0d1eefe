import { FINDING_KEYS, type FindingKey, type Severity, type Split, type TaskType } from '../types.ts';
import type { ChunkResult } from './chunk.ts';

const SEVERITIES: Severity[] = ['mild', 'moderate', 'severe'];
const TASKS: TaskType[] = ['closed', 'choice', 'open', 'abnormality_list', 'report'];
const SPLITS: Split[] = ['train', 'validation', 'test'];

export interface SynthSummary {
  cases: number;
  casesBySplit: Record<Split, number>;
  /** Present cases per finding, in all and by severity ('none' when the finding has no severity). */
  findings: Record<FindingKey, { present: number; bySeverity: Record<Severity | 'none', number> }>;
  normalCases: number;
  samplesByTask: Record<TaskType, number>;
  samplesBySplit: Record<Split, number>;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export function emptySummary(): SynthSummary {
  const findings = {} as SynthSummary['findings'];
  for (const key of FINDING_KEYS) findings[key] = { present: 0, bySeverity: zeros([...SEVERITIES, 'none']) };
  return {
    cases: 0,
    casesBySplit: zeros(SPLITS),
    findings,
    normalCases: 0,
    samplesByTask: zeros(TASKS),
    samplesBySplit: zeros(SPLITS),
  };
}

export function addToSummary(summary: SynthSummary, chunk: ChunkResult): void {
  for (const c of chunk.cases) {
    summary.cases++;
    summary.casesBySplit[c.split]++;
    const present = c.findings.filter((f) => f.present);
    if (present.length === 0) summary.normalCases++;
    for (const f of present) {
      summary.findings[f.name].present++;
      summary.findings[f.name].bySeverity[f.severity ?? 'none']++;
    }
  }
  for (const s of chunk.samples) {
    summary.samplesByTask[s.task]++;
    summary.samplesBySplit[s.split]++;
  }
}

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export function formatSummary(s: SynthSummary): string {
  const pct = (n: number): string => `${((100 * n) / Math.max(1, s.cases)).toFixed(1)}%`;
  const findingRows = FINDING_KEYS.map((k) => {
    const f = s.findings[k];
    return [
      k,
      f.present,
      pct(f.present),
      f.bySeverity.mild,
      f.bySeverity.moderate,
      f.bySeverity.severe,
      f.bySeverity.none,
    ];
  });
  findingRows.push(['(no finding)', s.normalCases, pct(s.normalCases), '', '', '', '']);
  const splitRows = SPLITS.map((sp) => [sp, s.casesBySplit[sp], s.samplesBySplit[sp]]);
  const taskRows = TASKS.map((t) => [t, s.samplesByTask[t]]);
  return [
    `${s.cases} cases`,
    '',
    table(['finding', 'present', 'share', 'mild', 'moderate', 'severe', 'no severity'], findingRows),
    '',
    table(['split', 'cases', 'samples'], splitRows),
    '',
    table(['task', 'samples'], taskRows),
  ].join('\n');
}
