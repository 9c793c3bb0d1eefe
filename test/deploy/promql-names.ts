/**
 * Metric names in PromQL, for checking that deploy/ reads only metrics that exist. A small scrubber,
 * not a parser: strings, label matchers, ranges, label lists (by/without/on/ignoring/group_*),
 * Grafana variables and offsets are removed; what remains is a metric name unless a `(` follows it
 * (a function or aggregation) or it is a keyword.
 */
import { Histogram } from 'prom-client';
import { createMetrics } from '../../src/server/metrics.ts';

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);

export function metricNamesIn(expr: string): string[] {
  const scrubbed = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}?/g, ' ')
    .replace(/\boffset\s+-?[0-9smhdwy]+/g, ' ');
  const names = new Set<string>();
  for (const match of scrubbed.matchAll(/(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = scrubbed.slice(match.index + match[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Every series name a chexpo server exports (catalogue + Node defaults, histogram parts) and `up`. */
export function knownMetricNames(): Set<string> {
  const names = new Set(['up']);
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    const name = (metric as unknown as { name: string }).name;
    names.add(name);
    if (metric instanceof Histogram) for (const part of ['_bucket', '_sum', '_count']) names.add(name + part);
  }
  return names;
}
