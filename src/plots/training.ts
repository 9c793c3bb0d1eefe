/** Training curves: SFT loss (training and validation) and the DPO statistics, per optimiser step. */
import type { PlotSpec } from './render.ts';
import { BLUE, chart, GREY, num, ORANGE, RED } from './theme.ts';

export interface StepValue {
  step: number;
  value: number;
}

/** Trailing moving average over `window` points (the first points average what exists so far). */
export function movingMean(points: readonly StepValue[], window: number): StepValue[] {
  let sum = 0;
  return points.map((p, i) => {
    sum += p.value;
    if (i >= window) sum -= points[i - window].value;
    return { step: p.step, value: sum / Math.min(i + 1, window) };
  });
}

interface Curve {
  name: string;
  colour: string;
  points: readonly StepValue[];
  /** Also draw the raw per-step values, faint (default true). */
  raw?: boolean;
  /** Mark each point (sparse series such as per-epoch validation). */
  dots?: boolean;
}

interface StepChartOptions {
  title: string;
  subtitle?: string | string[];
  yTitle: string;
  xTitle?: string;
  curves: Curve[];
  /** Moving-mean window applied to every curve with `raw` (1 = none). */
  window: number;
  /** A dashed horizontal reference line (chance, zero, ln 2). */
  reference?: { y: number; label: string };
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

/** A line chart over optimiser steps: a legend entry per curve, faint raw values under moving means. */
export function stepChart(o: StepChartOptions): PlotSpec {
  const rows: Array<{ step: number; value: number | null; series: string; kind: 'raw' | 'mean' }> = [];
  for (const c of o.curves) {
    const smooth = c.raw !== false && o.window > 1;
    if (smooth)
      for (const p of c.points) rows.push({ step: p.step, value: num(p.value), series: c.name, kind: 'raw' });
    for (const p of smooth ? movingMean(c.points, o.window) : c.points)
      rows.push({ step: p.step, value: num(p.value), series: c.name, kind: 'mean' });
  }
  const colour = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: o.curves.map((c) => c.name), range: o.curves.map((c) => c.colour) },
    legend: { symbolOpacity: 1, symbolStrokeWidth: 2 },
  };
  const x = { field: 'step', type: 'quantitative', title: o.xTitle ?? 'optimiser step' };
  const y = {
    field: 'value',
    type: 'quantitative',
    title: o.yTitle,
    ...(o.yDomain ? { scale: { domain: o.yDomain } } : { scale: { zero: false } }),
  };
  const dotted = o.curves.filter((c) => c.dots).map((c) => c.name);
  const layer: Record<string, unknown>[] = [
    {
      transform: [{ filter: "datum.kind === 'raw'" }],
      mark: { type: 'line', opacity: 0.25, strokeWidth: 1 },
      encoding: { x, y, color: colour, detail: { field: 'series' } },
    },
    {
      transform: [{ filter: "datum.kind === 'mean'" }],
      mark: { type: 'line', strokeWidth: 2 },
      encoding: { x, y, color: colour },
    },
  ];
  if (dotted.length > 0)
    layer.push({
      transform: [{ filter: "datum.kind === 'mean'" }, { filter: { field: 'series', oneOf: dotted } }],
      mark: { type: 'point', filled: true, size: 40 },
      encoding: { x, y, color: colour },
    });
  if (o.reference) {
    layer.push({
      data: { values: [{ y: o.reference.y, label: o.reference.label }] },
      layer: [
        {
          mark: { type: 'rule', strokeDash: [4, 4], color: GREY },
          encoding: { y: { field: 'y', type: 'quantitative' } },
        },
        {
          mark: {
            type: 'text',
            align: 'right',
            baseline: 'bottom',
            dx: -2,
            dy: -2,
            color: GREY,
            fontSize: 10,
          },
          encoding: {
            y: { field: 'y', type: 'quantitative' },
            x: { value: o.width ?? 560 },
            text: { field: 'label' },
          },
        },
      ],
    });
  }
  return chart({
    title: { text: o.title, ...(o.subtitle ? { subtitle: o.subtitle } : {}) },
    width: o.width ?? 560,
    height: o.height ?? 280,
    data: { values: rows },
    layer,
  });
}

export interface SftLossInput {
  steps: ReadonlyArray<{ step: number; loss: number }>;
  /** Validation NLL after each epoch, at the step it was measured. */
  epochs: ReadonlyArray<{ step: number; valNll: number }>;
  /** Moving-mean window of the training loss (default 50 steps). */
  window?: number;
}

export function sftLossSpec(input: SftLossInput): PlotSpec {
  const window = input.window ?? 50;
  return stepChart({
    title: 'SFT loss',
    subtitle: [
      `training: ${window}-step moving mean over the faint per-step values`,
      'validation: after each epoch',
    ],
    yTitle: 'loss (nats)',
    window,
    curves: [
      {
        name: 'training loss',
        colour: BLUE,
        points: input.steps.map((s) => ({ step: s.step, value: s.loss })),
      },
      {
        name: 'validation answer-token NLL',
        colour: RED,
        raw: false,
        dots: true,
        points: input.epochs.map((e) => ({ step: e.step, value: e.valNll })),
      },
    ],
  });
}

/** The DPO statistics the curves need (TRL DPOTrainer's log keys, src/loop/dpo/metrics.ts). */
export interface DpoStepInput {
  step: number;
  loss: number;
  'rewards/chosen': number;
  'rewards/rejected': number;
  'rewards/margins': number;
  'rewards/accuracies': number;
}

/** The four DPO curves by PNG file name, smoothed over ~5 % of the run. `beta` turns rewards into log-prob changes. */
export function dpoSpecs(steps: readonly DpoStepInput[], beta: number): Record<string, PlotSpec> {
  const window = Math.max(1, Math.round(steps.length / 20));
  const series = (f: (s: DpoStepInput) => number) => steps.map((s) => ({ step: s.step, value: f(s) }));
  const sub = `${window}-step moving mean over the faint per-step batch means; β = ${beta}`;
  const lines = (...more: string[]) => [sub, ...more];
  return {
    'dpo-loss.png': stepChart({
      title: 'DPO loss',
      subtitle: sub,
      yTitle: 'DPO loss (nats)',
      window,
      reference: { y: Math.LN2, label: 'ln 2 (no preference)' },
      curves: [{ name: 'loss', colour: BLUE, points: series((s) => s.loss) }],
    }),
    'dpo-margins.png': stepChart({
      title: 'DPO reward margin (chosen − rejected)',
      subtitle: sub,
      yTitle: 'margin β·Δ(log π − log π_ref) (nats)',
      window,
      reference: { y: 0, label: 'no margin' },
      curves: [{ name: 'margin', colour: BLUE, points: series((s) => s['rewards/margins']) }],
    }),
    'dpo-accuracy.png': stepChart({
      title: 'DPO reward accuracy',
      subtitle: lines('share of pairs whose chosen answer has the higher reward'),
      yTitle: 'reward accuracy (share of pairs)',
      window,
      yDomain: [0, 1],
      reference: { y: 0.5, label: 'chance' },
      curves: [{ name: 'accuracy', colour: BLUE, points: series((s) => s['rewards/accuracies']) }],
    }),
    'dpo-logps.png': stepChart({
      title: 'Log-probability change from the reference model',
      subtitle: lines('both falling = the margin grows by pushing the chosen answer down too'),
      yTitle: 'log π − log π_ref per answer (nats)',
      window,
      reference: { y: 0, label: 'reference' },
      curves: [
        { name: 'chosen', colour: BLUE, points: series((s) => s['rewards/chosen'] / beta) },
        { name: 'rejected', colour: ORANGE, points: series((s) => s['rewards/rejected'] / beta) },
      ],
    }),
  };
}
