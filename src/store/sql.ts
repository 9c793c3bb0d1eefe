/**
 * SQL literals for LanceDB filters (DataFusion dialect). Filters are strings, so every value that
 * comes from outside (request-id hashes, ids, labels) goes through these, never through
 * template interpolation alone.
 */

/** A string literal: single quotes doubled, as standard SQL escapes them. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `column IN ('a', 'b')`; an empty list gives a filter that matches nothing. */
export function sqlIn(column: string, values: readonly string[]): string {
  if (values.length === 0) return 'false';
  return `${column} IN (${values.map(sqlString).join(', ')})`;
}

/** Timestamp literal for an epoch-ms instant, comparable with the tables' timestamp columns. */
export function sqlEpochMs(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite instant: ${ms}`);
  return `to_timestamp_millis(${Math.trunc(ms)})`;
}

/** Joins the defined filters with AND; undefined when there are none. */
export function sqlAnd(...filters: (string | undefined)[]): string | undefined {
  const present = filters.filter((f): f is string => f !== undefined && f.trim() !== '');
  if (present.length === 0) return undefined;
  return present.map((f) => `(${f})`).join(' AND ');
}
