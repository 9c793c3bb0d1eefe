/** What every chart shares: the schema, the font, a white background and readable sizes. */
import type { PlotSpec } from './render.ts';
import { FONT_FAMILY } from './render.ts';

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export const CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 8,
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start', offset: 8 },
  axis: {
    labelLimit: 320,
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    gridColor: '#e6e6e6',
  },
  legend: {
    labelLimit: 400,
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    orient: 'bottom',
  },
  header: { labelFontSize: 12, titleFontSize: 12 },
} as const;

/** Tableau 10's first colours, the palette the earlier hand-drawn PNGs used. */
export const BLUE = '#1f77b4';
export const ORANGE = '#ff7f0e';
export const GREEN = '#2ca02c';
export const RED = '#d62728';
export const PURPLE = '#9467bd';
export const GREY = '#7f7f7f';

/** A top-level spec with the shared config; `body` is any Vega-Lite view, layer, facet or concat. */
export function chart(body: Record<string, unknown>): PlotSpec {
  return { $schema: SCHEMA, config: CONFIG, ...body } as PlotSpec;
}

/** JSON-safe number: NaN and ±Infinity become null, which Vega treats as missing. */
export const num = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

export const fixed = (x: number | null | undefined, digits = 3): string => {
  const n = num(x);
  return n === null ? 'n/a' : n.toFixed(digits);
};
