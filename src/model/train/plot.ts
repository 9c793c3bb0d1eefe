import { PNG } from 'pngjs';

export interface Series {
  points: Array<[number, number]>;
  /** RGB. */
  color: [number, number, number];
}

/**
 * A bare line chart as PNG bytes (axes and light grid, no text: the numbers live in the JSON beside it).
 * Enough to eyeball a loss curve without a plotting dependency.
 */
export function linePlot(series: Series[], width = 640, height = 360): Uint8Array {
  const png = new PNG({ width, height });
  png.data.fill(255);
  const margin = 24;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return PNG.sync.write(png);
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = [Math.min(0, ...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const px = (x: number) => margin + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * margin);
  const py = (y: number) => height - margin - ((y - y0) / (y1 - y0 || 1)) * (height - 2 * margin);
  const set = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= width || yi >= height) return;
    const o = (yi * width + xi) * 4;
    png.data[o] = r;
    png.data[o + 1] = g;
    png.data[o + 2] = b;
  };
  const line = (ax: number, ay: number, bx: number, by: number, color: [number, number, number]) => {
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay)));
    for (let i = 0; i <= n; i++) set(ax + ((bx - ax) * i) / n, ay + ((by - ay) * i) / n, color);
  };
  for (let k = 0; k <= 4; k++) {
    const y = margin + (k * (height - 2 * margin)) / 4;
    line(margin, y, width - margin, y, [225, 225, 225]);
  }
  line(margin, height - margin, width - margin, height - margin, [0, 0, 0]);
  line(margin, margin, margin, height - margin, [0, 0, 0]);
  for (const s of series)
    for (let i = 1; i < s.points.length; i++) {
      const [a, b] = [s.points[i - 1], s.points[i]];
      line(px(a[0]), py(a[1]), px(b[0]), py(b[1]), s.color);
    }
  return PNG.sync.write(png);
}
