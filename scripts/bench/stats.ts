/**
 * The figures and tables the bench scripts print, defined once. Three order statistics, each kept as
 * the scripts had it so their output (quoted in docs/benchmarks.md) stays the same: `percentile` by
 * nearest rank, `quantile` at index ⌊q·n⌋ (the upper median at q = 0.5) and `median` averaging the two
 * middle values. All three read an unsorted copy and give NaN for no values.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** Nearest rank: the smallest value with at least p% of `xs` at or below it (p in 0…100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** The value at index ⌊q·n⌋ of the sorted values (q in 0…1). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** The middle value, or the mean of the two middle values of an even count. */
export function median(xs: readonly number[]): number {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Fixed-point, one decimal unless told. */
export const fmt = (x: number, digits = 1): string => x.toFixed(digits);

/** The 1, 5 and 15 minute load averages, as `0.45 / 1.02 / 1.20`. */
export const loadAverage = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

/** This machine as the benches' first line names it: CPU model, cores and Node version. */
export const machine = (): string =>
  `${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}`;

export interface RowLayout {
  /** Between cells; two spaces unless told. */
  sep?: string;
  /** How many leading cells are left-aligned (padded at the end); the rest are right-aligned. */
  left?: number;
}

/** One line of cells, each padded to its column's width. */
export function padRow(
  cells: readonly (string | number)[],
  widths: readonly number[],
  { sep = '  ', left = 0 }: RowLayout = {},
): string {
  return cells
    .map((cell, i) => (i < left ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
    .join(sep);
}

/** Prints the headers, then each row with its cells right-aligned under their header. */
export function table(headers: readonly string[], rows: readonly (string | number)[][]): void {
  const widths = headers.map((h) => h.length);
  console.log(padRow(headers, widths));
  for (const row of rows) console.log(padRow(row, widths));
}

/** Lines of a table whose columns are as wide as their widest cell; the first column left-aligned. */
export function fittedRows(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => padRow(r, widths, { left: 1 }));
}

/** One row of a markdown table. */
export const markdownRow = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
