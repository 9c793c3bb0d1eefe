/**
 * Plots as declarative Vega-Lite specs (data inside, testable as JSON), rendered headless to SVG by
 * vega and rasterised to PNG by resvg with a bundled font; `writePlot` writes the .svg beside the .png.
 */
export {
  evalPlots,
  type GateInput,
  gateSpec,
  type IntervalValue,
  type MetricTable,
  perFindingSpec,
  type ReliabilityInput,
  reliabilitySpec,
} from './eval.ts';
export { captionedGrid, type GridOptions, type GridTile, wrap } from './grid.ts';
export { type CurveInput, confidenceCurveSpec, TASK_COLOURS, type ThresholdInput } from './mining.ts';
export {
  compileSpec,
  FONT_FAMILY,
  FONT_FILES,
  type PlotSpec,
  type RasterOptions,
  renderPng,
  renderSvg,
  svgToPng,
  writePlot,
} from './render.ts';
export {
  type DpoStepInput,
  dpoSpecs,
  movingMean,
  type SftLossInput,
  sftLossSpec,
  stepChart,
} from './training.ts';
