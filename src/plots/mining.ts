/** The mining evidence: error rate against confidence per task, with the thresholds the run chose. */
import type { TaskType } from '../data/types.ts';
import type { PlotSpec } from './render.ts';
import { BLUE, chart, fixed, GREEN, num, ORANGE, PURPLE, RED } from './theme.ts';

/** One colour per task, in MINING_TASKS order. */
export const TASK_COLOURS: Readonly<Record<TaskType, string>> = {
  closed: BLUE,
  choice: ORANGE,
  open: GREEN,
  abnormality_list: RED,
  report: PURPLE,
};
const TASKS = Object.keys(TASK_COLOURS) as TaskType[];

/** What the chart reads of a ConfidenceCurve (src/loop/mining/curve.ts) and a ThresholdChoice. */
export interface CurveInput {
  n: number;
  auroc: number;
  bins: ReadonlyArray<{ lo: number; hi: number; count: number; meanConfidence: number; errorRate: number }>;
}
export interface ThresholdInput {
  threshold: number;
  source: string;
}

export function confidenceCurveSpec(
  curve: Partial<Record<TaskType, CurveInput>>,
  choices: Partial<Record<TaskType, ThresholdInput>> = {},
): PlotSpec {
  const tasks = TASKS.filter((t) => curve[t]);
  const bins = tasks.flatMap((task) =>
    curve[task]!.bins.map((b) => ({
      task,
      confidence: num(b.meanConfidence),
      error_rate: num(b.errorRate),
      count: b.count,
      lo: b.lo,
      hi: b.hi,
    })),
  );
  const marked = tasks.filter((t) => choices[t]);
  const thresholds = marked.map((task) => ({
    task,
    threshold: choices[task]!.threshold,
    label: `${task} < ${fixed(choices[task]!.threshold, 2)}`,
  }));
  const colour = {
    field: 'task',
    type: 'nominal',
    title: 'task',
    scale: { domain: tasks, range: tasks.map((t) => TASK_COLOURS[t]) },
  };
  const x = {
    field: 'confidence',
    type: 'quantitative',
    title: 'answer confidence (bin mean)',
    scale: { domain: [0, 1] },
  };
  const subtitle = [
    'equal-count bins; point size = samples in the bin',
    'dashed lines: the thresholds chosen (answers below one are hard examples)',
    ...tasks.map(
      (t) =>
        `${t}: n ${curve[t]!.n}, AUROC ${fixed(curve[t]!.auroc, 2)}` +
        (choices[t] ? `, threshold ${fixed(choices[t]!.threshold, 2)} (${choices[t]!.source})` : ''),
    ),
  ];
  return chart({
    title: { text: 'Error rate against confidence (mining)', subtitle },
    width: 560,
    height: 320,
    layer: [
      {
        data: { values: bins },
        layer: [
          {
            mark: { type: 'line', strokeWidth: 2 },
            encoding: { x, y: { field: 'error_rate', type: 'quantitative' }, color: colour },
          },
          {
            mark: { type: 'point', filled: true },
            encoding: {
              x,
              y: {
                field: 'error_rate',
                type: 'quantitative',
                title: 'error rate (share of wrong answers)',
                scale: { domain: [0, 1] },
              },
              color: colour,
              size: { field: 'count', type: 'quantitative', title: 'samples in bin', legend: null },
            },
          },
        ],
      },
      {
        data: { values: thresholds },
        layer: [
          {
            mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.5 },
            encoding: { x: { field: 'threshold', type: 'quantitative' }, color: colour },
          },
          {
            mark: {
              type: 'text',
              angle: 270,
              align: 'right',
              baseline: 'bottom',
              dx: -4,
              dy: -2,
              fontSize: 10,
            },
            encoding: {
              x: { field: 'threshold', type: 'quantitative' },
              y: { value: 0 },
              text: { field: 'label' },
              color: colour,
            },
          },
        ],
      },
    ],
  });
}
