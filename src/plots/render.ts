/**
 * Vega-Lite spec → SVG (vega-lite compiles, vega renders headless: no browser, no canvas) → PNG
 * (resvg). Text is drawn with DejaVu Sans from the `dejavu-fonts-ttf` package, never the system's
 * fonts, so a plot looks the same on a developer machine and in a slim image without fonts.
 * The libraries load on the first render, not with the module: the server's start-up never pays for them.
 */
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { TopLevelSpec } from 'vega-lite';
import { readAdvances, textWidth } from './font-metrics.ts';

export type PlotSpec = TopLevelSpec;

export const FONT_FAMILY = 'DejaVu Sans';
const require = createRequire(import.meta.url);
/** The TrueType files resvg draws every plot's text with. */
export const FONT_FILES: readonly string[] = [
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
];

type Libraries = [typeof import('vega'), typeof import('vega-lite'), typeof import('@resvg/resvg-js')];
let libraries: Promise<Libraries> | undefined;
const load = (): Promise<Libraries> =>
  (libraries ??= Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]).then(
    (libs) => {
      measureWithBundledFont(libs[0]);
      return libs;
    },
  ));

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
  ellipsis?: string;
}

/**
 * Vega's text measurement, by the bundled font's advance widths (the hook vl-convert uses too):
 * layout then matches what resvg draws. Labels over their `limit` are cut with an ellipsis, as Vega does.
 */
function measureWithBundledFont(vega: typeof import('vega')): void {
  const [regular, bold] = FONT_FILES.map(readAdvances);
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } })
    .textMetrics;
  metrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const advance = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600 ? bold : regular;
    const s = text == null ? '' : String(text).trim();
    const width = textWidth(advance, s, size);
    const limit = Number(item.limit);
    if (!(limit > 0) || width < limit) return width;
    const ellipsis = item.ellipsis ?? '\u2026';
    const room = limit - textWidth(advance, ellipsis, size);
    let kept = 0;
    while (kept < s.length && textWidth(advance, s.slice(0, kept + 1), size) < room) kept++;
    return textWidth(advance, s.slice(0, kept) + ellipsis, size);
  };
}

/** The Vega spec vega-lite compiles `spec` to (what the tests inspect for marks and titles). */
export async function compileSpec(spec: PlotSpec) {
  const [, vl] = await load();
  return vl.compile(spec).spec;
}

export async function renderSvg(spec: PlotSpec): Promise<string> {
  const [vega, vl] = await load();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface RasterOptions {
  /** Pixels per SVG unit (default 2: sharp on high-density screens, still small files). */
  scale?: number;
}

/** Rasterises an SVG (a rendered plot or any SVG with text) with the bundled font. */
export async function svgToPng(svg: string, options: RasterOptions = {}): Promise<Uint8Array> {
  const [, , { Resvg }] = await load();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    font: {
      fontFiles: [...FONT_FILES],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
  });
  return resvg.render().asPng();
}

export async function renderPng(spec: PlotSpec, options: RasterOptions = {}): Promise<Uint8Array> {
  return svgToPng(await renderSvg(spec), options);
}

/** Writes `path` (a .png) and the SVG beside it (same name, .svg); returns both paths. */
export async function writePlot(
  path: string,
  spec: PlotSpec,
  options: RasterOptions = {},
): Promise<{ png: string; svg: string }> {
  if (!path.endsWith('.png')) throw new Error(`plot path must end in .png: ${path}`);
  const svg = await renderSvg(spec);
  const svgPath = `${path.slice(0, -'.png'.length)}.svg`;
  await writeFile(svgPath, svg);
  await writeFile(path, await svgToPng(svg, options));
  return { png: path, svg: svgPath };
}
