/** Evaluation charts: the reliability diagram, per-finding bars against the permuted-image control, the gate. */
import { FINDING_KEYS } from '../data/types.ts';
import type { PlotSpec } from './render.ts';
import { BLUE, chart, fixed, GREEN, GREY, num, ORANGE, RED } from './theme.ts';

/** A metric with its interval (EvalResult's MetricValue or an EvalRecord's nullable copy). */
export interface IntervalValue {
  value: number | null;
  lo: number | null;
  hi: number | null;
}
export type MetricTable = Readonly<Record<string, IntervalValue>>;

export interface ReliabilityInput {
  /** EvalResult.reliability (src/eval/metrics.ts): equal-width confidence bins. */
  reliability: ReadonlyArray<{
    lo: number;
    hi: number;
    count: number;
    mean_confidence: number;
    accuracy: number;
  }>;
  metrics?: MetricTable;
  calibrationTasks?: readonly string[];
}

export function reliabilitySpec(input: ReliabilityInput, title = 'Reliability diagram'): PlotSpec {
  const bins = input.reliability
    .filter((b) => b.count > 0)
    .map((b) => ({
      lo: b.lo,
      hi: b.hi,
      count: b.count,
      confidence: num(b.mean_confidence),
      accuracy: num(b.accuracy),
      label: `n=${b.count}`,
    }));
  const total = bins.reduce((s, b) => s + b.count, 0);
  const ece = input.metrics?.ece;
  const subtitle = [
    'bars: accuracy in each confidence bin (n = answers); dots: the bin mean confidence',
    `ECE ${fixed(ece?.value)}${ece?.lo != null ? ` [${fixed(ece.lo)}, ${fixed(ece.hi)}]` : ''} over ${total} answers` +
      (input.calibrationTasks ? ` (${input.calibrationTasks.join(', ')})` : ''),
  ];
  const unit = { type: 'quantitative', scale: { domain: [0, 1] } } as const;
  return chart({
    title: { text: title, subtitle },
    width: 420,
    height: 420,
    layer: [
      {
        data: { values: bins },
        layer: [
          {
            mark: { type: 'bar', color: BLUE, opacity: 0.55, stroke: 'white', strokeWidth: 1 },
            encoding: {
              x: { ...unit, field: 'lo', title: 'answer confidence' },
              x2: { field: 'hi' },
              y: { ...unit, field: 'accuracy', title: 'accuracy (share correct)' },
              y2: { datum: 0 },
            },
          },
          {
            mark: { type: 'point', filled: true, color: BLUE, size: 40 },
            encoding: { x: { ...unit, field: 'confidence' }, y: { ...unit, field: 'accuracy' } },
          },
          {
            mark: { type: 'text', baseline: 'bottom', dy: -3, fontSize: 9, color: '#333' },
            encoding: {
              x: { ...unit, field: 'confidence' },
              y: { ...unit, field: 'accuracy' },
              text: { field: 'label' },
            },
          },
        ],
      },
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: GREY },
        encoding: { x: { ...unit, field: 'x' }, y: { ...unit, field: 'y' } },
      },
    ],
  });
}

const PER_FINDING = [
  { prefix: 'finding_accuracy', label: 'accuracy (higher is better)' },
  { prefix: 'hallucination', label: 'hallucination rate (lower is better)' },
  { prefix: 'omission', label: 'omission rate (lower is better)' },
] as const;

/** One bar per finding × condition with its interval, a panel per metric. */
export function perFindingSpec(
  conditions: ReadonlyArray<{ name: string; metrics: MetricTable }>,
  options: { title?: string; level?: number; findings?: readonly string[] } = {},
): PlotSpec {
  const findings = options.findings ?? FINDING_KEYS;
  const rows = PER_FINDING.flatMap(({ prefix, label }) =>
    findings.flatMap((finding) =>
      conditions.flatMap(({ name, metrics }) => {
        const m = metrics[`${prefix}.${finding}`];
        const value = num(m?.value);
        if (value === null) return [];
        return [{ metric: label, finding, condition: name, value, lo: num(m?.lo), hi: num(m?.hi) }];
      }),
    ),
  );
  const names = conditions.map((c) => c.name);
  const colour = {
    field: 'condition',
    type: 'nominal',
    title: null,
    scale: { domain: names, range: [BLUE, ORANGE, GREEN, GREY].slice(0, names.length) },
  };
  const y = { field: 'finding', type: 'nominal', title: null, sort: [...findings] };
  const yOffset = { field: 'condition', type: 'nominal', sort: names };
  const level = Math.round((options.level ?? 0.95) * 100);
  return chart({
    title: {
      text: options.title ?? 'Per-finding accuracy, hallucination and omission',
      subtitle: [
        `whiskers: ${level} % case-bootstrap intervals`,
        'images permuted across cases: what the question alone earns, without its own image',
      ],
    },
    data: { values: rows },
    facet: {
      column: { field: 'metric', type: 'nominal', title: null, sort: PER_FINDING.map((p) => p.label) },
    },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 220,
      height: { step: 9 * names.length },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            y,
            yOffset,
            x: { field: 'value', type: 'quantitative', title: 'share', scale: { domain: [0, 1] } },
            color: colour,
          },
        },
        {
          mark: { type: 'rule', color: '#222' },
          encoding: { y, yOffset, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
        },
      ],
    },
  });
}

/** What the gate chart reads of a loop run's CandidateEvaluation (src/loop/evaluate-candidate.ts). */
export interface GateInput {
  comparison: {
    n_cases: number;
    level: number;
    metrics: Readonly<
      Record<
        string,
        { current: number; candidate: number; diff: number; lo: number; hi: number; better: string }
      >
    >;
  };
  decision: {
    promote: boolean;
    checks: ReadonlyArray<{ name: string; metric: string; passed: boolean; applicable: boolean }>;
  };
  current: { record: { metrics: MetricTable } };
  candidate: { record: { metrics: MetricTable } };
}

/** Current vs candidate per gated metric with each model's interval, and the paired difference. */
export function gateSpec(input: GateInput): PlotSpec {
  const checks = input.decision.checks.filter((c) => input.comparison.metrics[c.metric]);
  const label = (c: { name: string; metric: string }) =>
    `${c.name} ${input.comparison.metrics[c.metric].better === 'higher' ? '↑' : '↓'}`;
  const order = checks.map(label);
  const values = checks.flatMap((c) =>
    (['current', 'candidate'] as const).map((model) => {
      const own = input[model].record.metrics[c.metric];
      return {
        metric: label(c),
        model,
        value: num(own?.value ?? input.comparison.metrics[c.metric][model]),
        lo: num(own?.lo),
        hi: num(own?.hi),
      };
    }),
  );
  const diffs = checks.map((c) => {
    const d = input.comparison.metrics[c.metric];
    return {
      metric: label(c),
      diff: num(d.diff),
      lo: num(d.lo),
      hi: num(d.hi),
      check: c.applicable ? (c.passed ? 'pass' : 'fail') : 'skipped',
    };
  });
  const y = { field: 'metric', type: 'nominal', title: null, sort: order };
  const level = Math.round(input.comparison.level * 100);
  const failed = checks.filter((c) => !c.passed).map((c) => c.name);
  const height = 34 * checks.length;
  return chart({
    title: {
      text: input.decision.promote ? 'Gate: promote' : `Gate: refuse (${failed.join(', ') || 'no primary'})`,
      subtitle: [
        `both versions on the same ${input.comparison.n_cases} held-out test cases; ↑ higher is better, ↓ lower`,
        `${level} % case-bootstrap intervals (paired for the difference)`,
      ],
    },
    hconcat: [
      {
        width: 300,
        height,
        data: { values },
        layer: [
          {
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: {
              y,
              yOffset: { field: 'model', sort: ['current', 'candidate'] },
              x: { field: 'lo', type: 'quantitative', title: 'metric value', scale: { zero: false } },
              x2: { field: 'hi' },
              color: {
                field: 'model',
                type: 'nominal',
                title: 'version',
                scale: { domain: ['current', 'candidate'], range: [GREY, BLUE] },
              },
            },
          },
          {
            mark: { type: 'point', filled: true, size: 50 },
            encoding: {
              y,
              yOffset: { field: 'model', sort: ['current', 'candidate'] },
              x: { field: 'value', type: 'quantitative' },
              color: {
                field: 'model',
                type: 'nominal',
                title: 'version',
                scale: { domain: ['current', 'candidate'], range: [GREY, BLUE] },
              },
            },
          },
        ],
      },
      {
        width: 240,
        height,
        data: { values: diffs },
        layer: [
          {
            data: { values: [{ zero: 0 }] },
            mark: { type: 'rule', color: GREY, strokeDash: [4, 4] },
            encoding: { x: { field: 'zero', type: 'quantitative' } },
          },
          {
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: {
              y: { ...y, axis: null },
              x: { field: 'lo', type: 'quantitative', title: 'candidate − current' },
              x2: { field: 'hi' },
              color: {
                field: 'check',
                type: 'nominal',
                title: 'gate check',
                scale: { domain: ['pass', 'fail', 'skipped'], range: [GREEN, RED, GREY] },
              },
            },
          },
          {
            mark: { type: 'point', filled: true, size: 50 },
            encoding: {
              y: { ...y, axis: null },
              x: { field: 'diff', type: 'quantitative' },
              color: {
                field: 'check',
                type: 'nominal',
                scale: { domain: ['pass', 'fail', 'skipped'], range: [GREEN, RED, GREY] },
              },
            },
          },
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
  });
}

/** What `chexpo eval --plots` and `chexpo release` draw: the reliability diagram, and per-finding bars with the controls. */
export function evalPlots(
  model: ReliabilityInput & {
    metrics: MetricTable;
    config?: { level?: number; calibration_tasks?: readonly string[] };
  },
  permuted?: { metrics: MetricTable },
): Record<string, PlotSpec> {
  const plots: Record<string, PlotSpec> = {
    'reliability.png': reliabilitySpec({ ...model, calibrationTasks: model.config?.calibration_tasks }),
  };
  const conditions = [{ name: 'own images', metrics: model.metrics }];
  if (permuted) conditions.push({ name: 'images permuted across cases', metrics: permuted.metrics });
  plots['per-finding.png'] = perFindingSpec(conditions, { level: model.config?.level });
  return plots;
}
