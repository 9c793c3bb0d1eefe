/**
 * What `chexpo eval` prints (and docs/model.md records), and the JSON stored with a run.
 * Text tables are plain fixed-width columns so they paste into Markdown code blocks unchanged.
 */
import { CATALOGUE } from '../data/catalogue.ts';
import type { FindingKey } from '../data/types.ts';
import { FINDING_KEYS } from '../data/types.ts';
import type { Comparison } from './compare.ts';
import type { GateDecision } from './gate.ts';
import type { EvalResult, MetricValue, ReliabilityBin } from './metrics.ts';

const num = (x: number, digits = 3): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

function withInterval(m: MetricValue | undefined): string {
  if (!m) return '—';
  return Number.isNaN(m.lo) ? num(m.value) : `${num(m.value)} [${num(m.lo)}, ${num(m.hi)}]`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const TASK_ROWS: [string, string][] = [
  ['closed (yes/no)', 'task.closed'],
  ['choice', 'task.choice'],
  ['open (attribute)', 'task.open'],
  ['abnormality list (mean F1)', 'task.abnormality_list'],
  ['report (micro F1)', 'task.report'],
  ['report (macro F1)', 'report.macro_f1'],
  ['report precision (micro)', 'report.precision'],
  ['report recall (micro)', 'report.recall'],
  ['primary score', 'primary'],
];

const SAFETY_ROWS: [string, string][] = [
  ['hallucination rate', 'hallucination.rate'],
  ['  in closed answers', 'hallucination.closed'],
  ['  in reports', 'hallucination.report'],
  ['omission rate', 'omission.rate'],
  ['  in closed answers', 'omission.closed'],
  ['  in reports', 'omission.report'],
  ['POPE accuracy', 'pope.accuracy'],
  ['POPE F1', 'pope.f1'],
  ['POPE yes-ratio (all)', 'pope.yes_ratio'],
  ['POPE yes-ratio, random negatives', 'pope.random_yes_ratio'],
  ['POPE yes-ratio, popular negatives', 'pope.popular_yes_ratio'],
  ['POPE yes-ratio, adversarial negatives', 'pope.adversarial_yes_ratio'],
  ['ECE of answer confidence', 'ece'],
];

function metricRows(result: EvalResult, rows: [string, string][]): string[][] {
  return rows
    .filter(([, key]) => result.metrics[key])
    .map(([label, key]) => [label, withInterval(result.metrics[key]), String(result.metrics[key].support)]);
}

function findingRows(result: EvalResult): string[][] {
  const m = result.metrics;
  return FINDING_KEYS.filter((f) => m[`finding_accuracy.${f}`]).map((f: FindingKey) => [
    CATALOGUE[f].display,
    String(m[`finding_accuracy.${f}`].support),
    withInterval(m[`finding_accuracy.${f}`]),
    withInterval(m[`hallucination.${f}`]),
    withInterval(m[`omission.${f}`]),
    withInterval(m[`closed_recall_at_fpr10.${f}`]),
    withInterval(m[`report_f1.${f}`]),
  ]);
}

export function formatReliability(bins: readonly ReliabilityBin[]): string {
  const rows = bins
    .filter((b) => b.count > 0)
    .map((b) => [
      `${num(b.lo, 2)}–${num(b.hi, 2)}`,
      String(b.count),
      num(b.mean_confidence),
      num(b.accuracy),
      num(b.accuracy - b.mean_confidence),
    ]);
  return table(['confidence', 'n', 'mean conf', 'accuracy', 'gap'], rows);
}

export function formatEvalTable(result: EvalResult): string {
  const c = result.config;
  return [
    `${result.n_samples} samples from ${result.n_cases} cases; ${Math.round(c.level * 100)} % case-bootstrap intervals (${c.resamples} resamples, seed ${c.seed})`,
    '',
    table(['task', 'score', 'n'], metricRows(result, TASK_ROWS)),
    '',
    table(['safety', 'value', 'n'], metricRows(result, SAFETY_ROWS)),
    '',
    table(
      ['finding', 'n', 'accuracy', 'hallucination', 'omission', 'closed recall @10% FPR', 'report F1'],
      findingRows(result),
    ),
    '',
    `reliability (${c.calibration_tasks.join(', ')}; ${c.bins} bins)`,
    formatReliability(result.reliability),
  ].join('\n');
}

export function formatComparison(comparison: Comparison, decision?: GateDecision): string {
  const keys = [
    'primary',
    ...TASK_ROWS.map(([, k]) => k).filter((k) => k !== 'primary'),
    ...SAFETY_ROWS.map(([, k]) => k),
  ];
  const rows = keys
    .filter((k) => comparison.metrics[k])
    .map((k) => {
      const d = comparison.metrics[k];
      return [
        k,
        num(d.current),
        num(d.candidate),
        `${num(d.diff)} [${num(d.lo)}, ${num(d.hi)}]`,
        num(d.p_diff_le_0),
      ];
    });
  const head = `paired case bootstrap over ${comparison.n_cases} cases (${comparison.resamples} resamples, seed ${comparison.seed}); diff = candidate − current`;
  const body = table(['metric', 'current', 'candidate', 'diff [interval]', 'P(diff≤0)'], rows);
  return decision ? [head, '', body, '', ...decision.reasons].join('\n') : [head, '', body].join('\n');
}

/** JSON-safe numbers: NaN (undefined metric) becomes null. */
const jsonNumber = (x: number): number | null => (Number.isFinite(x) ? x : null);

export interface EvalRecord {
  schema: 'chexpo.eval/1';
  n_samples: number;
  n_cases: number;
  config: EvalResult['config'];
  metrics: Record<
    string,
    {
      value: number | null;
      lo: number | null;
      hi: number | null;
      support: number;
      better: 'higher' | 'lower';
    }
  >;
  reliability: {
    lo: number;
    hi: number;
    count: number;
    mean_confidence: number | null;
    accuracy: number | null;
  }[];
}

/** The run-record shape of an evaluation (stored with the run and in the version manifest). */
export function toEvalRecord(result: EvalResult): EvalRecord {
  const metrics: EvalRecord['metrics'] = {};
  for (const [k, m] of Object.entries(result.metrics)) {
    metrics[k] = {
      value: jsonNumber(m.value),
      lo: jsonNumber(m.lo),
      hi: jsonNumber(m.hi),
      support: m.support,
      better: m.better,
    };
  }
  return {
    schema: 'chexpo.eval/1',
    n_samples: result.n_samples,
    n_cases: result.n_cases,
    config: result.config,
    metrics,
    reliability: result.reliability.map((b) => ({
      ...b,
      mean_confidence: jsonNumber(b.mean_confidence),
      accuracy: jsonNumber(b.accuracy),
    })),
  };
}

export interface GateRecord {
  schema: 'chexpo.gate/1';
  promote: boolean;
  reasons: string[];
  checks: GateDecision['checks'];
  comparison: {
    n_cases: number;
    n_samples: number;
    resamples: number;
    seed: number;
    level: number;
    metrics: Record<string, Record<string, number | null | string>>;
  };
}

/** The decision and its evidence, as stored with the loop run. */
export function toGateRecord(comparison: Comparison, decision: GateDecision): GateRecord {
  const metrics: GateRecord['comparison']['metrics'] = {};
  for (const [k, d] of Object.entries(comparison.metrics)) {
    metrics[k] = {
      current: jsonNumber(d.current),
      candidate: jsonNumber(d.candidate),
      diff: jsonNumber(d.diff),
      lo: jsonNumber(d.lo),
      hi: jsonNumber(d.hi),
      p_diff_le_0: jsonNumber(d.p_diff_le_0),
      support: d.support,
      better: d.better,
    };
  }
  const { n_cases, n_samples, resamples, seed, level } = comparison;
  return {
    schema: 'chexpo.gate/1',
    promote: decision.promote,
    reasons: decision.reasons,
    checks: decision.checks,
    comparison: { n_cases, n_samples, resamples, seed, level, metrics },
  };
}

const CONTROL_COLUMNS: [string, string][] = [
  ['primary', 'primary'],
  ['closed', 'task.closed'],
  ['choice', 'task.choice'],
  ['open', 'task.open'],
  ['list F1', 'task.abnormality_list'],
  ['report F1', 'task.report'],
  ['POPE adv. yes', 'pope.adversarial_yes_ratio'],
];

/** Rows of the controls table: the model, then each control, every cell with its interval. */
export function formatControlsTable(rows: readonly [string, EvalResult][]): string {
  return table(
    ['predictor', ...CONTROL_COLUMNS.map(([h]) => h)],
    rows.map(([label, r]) => [label, ...CONTROL_COLUMNS.map(([, k]) => withInterval(r.metrics[k]))]),
  );
}

/**
 * Per finding: closed-question accuracy with the case's own image and with another patient's, the
 * drop (what the image earns), recall at 10% false positives, and the visibility ceiling.
 */
export function formatImageReliance(
  model: EvalResult,
  permuted: EvalResult,
  visibility: readonly { finding: FindingKey; median_ratio: number; ceiling: number; visible: boolean }[],
): string {
  const byFinding = new Map(visibility.map((v) => [v.finding, v]));
  const rows = FINDING_KEYS.filter((f) => model.metrics[`accuracy.closed.${f}`]).map((f) => {
    const own = model.metrics[`accuracy.closed.${f}`];
    const other = permuted.metrics[`accuracy.closed.${f}`];
    const v = byFinding.get(f);
    return [
      CATALOGUE[f].display,
      String(own.support),
      withInterval(own),
      withInterval(other),
      other ? num(own.value - other.value) : '—',
      withInterval(model.metrics[`closed_recall_at_fpr10.${f}`]),
      v ? `${num(v.median_ratio, 2)} (${v.visible ? 'visible' : 'not visible'})` : '—',
      v ? num(v.ceiling, 2) : '—',
    ];
  });
  return table(
    [
      'finding (closed)',
      'n',
      'accuracy',
      'permuted images',
      'drop',
      'recall @10% FPR',
      'contrast/clutter',
      'ceiling',
    ],
    rows,
  );
}
