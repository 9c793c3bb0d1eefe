/**
 * Pixel grid of one render: maps pixels to patient millimetres (through the patient's in-plane rotation
 * and lateral shift) and draws bounded primitives into Float32Array layers. Each primitive touches only
 * the pixels of its bounding box, which is what keeps counterfactual edits local.
 */
import { type BoxMm, FIELD_OF_VIEW_MM } from './geometry.ts';

const scratchPool = new Map<string, Float32Array>();

/**
 * A reusable zeroed buffer per (name, length). Renders are synchronous, so one buffer per name is
 * enough; reusing them keeps 10,000-case runs from spending their time in the garbage collector.
 */
export function scratch(name: string, n: number, fill = 0): Float32Array {
  const key = `${name}:${n}`;
  let buf = scratchPool.get(key);
  if (!buf) scratchPool.set(key, (buf = new Float32Array(n)));
  return buf.fill(fill);
}

export interface PixelBox {
  x0: number;
  y0: number;
  /** Exclusive. */
  x1: number;
  /** Exclusive. */
  y1: number;
}

export interface Segment {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export class Raster {
  readonly n: number;
  /** mm per pixel. */
  readonly spacing: number;
  /** Patient x (mm) of every pixel, row-major. */
  readonly xs: Float32Array;
  /** Patient y (mm) of every pixel, row-major. */
  readonly ys: Float32Array;
  private readonly cos: number;
  private readonly sin: number;

  readonly size: number;
  private readonly shiftMm: number;
  constructor(size: number, rotationDeg: number, shiftMm: number) {
    this.size = size;
    this.shiftMm = shiftMm;
    this.n = size * size;
    this.spacing = FIELD_OF_VIEW_MM / size;
    const t = (rotationDeg * Math.PI) / 180;
    this.cos = Math.cos(t);
    this.sin = Math.sin(t);
    this.xs = scratch('raster-x', this.n);
    this.ys = scratch('raster-y', this.n);
    const half = FIELD_OF_VIEW_MM / 2;
    for (let py = 0; py < size; py++) {
      const dy = (py + 0.5) * this.spacing - half;
      for (let px = 0; px < size; px++) {
        const dx = (px + 0.5) * this.spacing - half;
        const i = py * size + px;
        this.xs[i] = this.cos * dx + this.sin * dy - shiftMm;
        this.ys[i] = -this.sin * dx + this.cos * dy + half;
      }
    }
  }

  /** Pixel coordinates (continuous) of a patient point. */
  toPixel(x: number, y: number): { px: number; py: number } {
    const half = FIELD_OF_VIEW_MM / 2;
    const u = x + this.shiftMm;
    const v = y - half;
    const dx = this.cos * u - this.sin * v;
    const dy = this.sin * u + this.cos * v;
    return { px: (dx + half) / this.spacing - 0.5, py: (dy + half) / this.spacing - 0.5 };
  }

  /** Pixel bounding box of a patient box grown by `marginMm`, clipped to the image. */
  pixelBox(b: BoxMm, marginMm = 0): PixelBox {
    const corners = [
      this.toPixel(b.x0 - marginMm, b.y0 - marginMm),
      this.toPixel(b.x1 + marginMm, b.y0 - marginMm),
      this.toPixel(b.x0 - marginMm, b.y1 + marginMm),
      this.toPixel(b.x1 + marginMm, b.y1 + marginMm),
    ];
    const clip = (v: number) => Math.min(this.size, Math.max(0, v));
    return {
      x0: clip(Math.floor(Math.min(...corners.map((c) => c.px)))),
      y0: clip(Math.floor(Math.min(...corners.map((c) => c.py)))),
      x1: clip(Math.ceil(Math.max(...corners.map((c) => c.px))) + 1),
      y1: clip(Math.ceil(Math.max(...corners.map((c) => c.py))) + 1),
    };
  }

  /**
   * Add a cylinder seen side-on (a vessel, a tube, a thin line): amount · sqrt(1 − (d/r)²) at distance d
   * from the segment. Lines thinner than a pixel are widened and dimmed to keep their integral.
   */
  addCapsule(target: Float32Array, s: Segment, radius: number, amount: number): void {
    const r = Math.max(radius, 0.6 * this.spacing);
    const a = (amount * radius) / r;
    const box = this.pixelBox(
      {
        x0: Math.min(s.x0, s.x1),
        y0: Math.min(s.y0, s.y1),
        x1: Math.max(s.x0, s.x1),
        y1: Math.max(s.y0, s.y1),
      },
      r + this.spacing,
    );
    const ex = s.x1 - s.x0;
    const ey = s.y1 - s.y0;
    const len2 = ex * ex + ey * ey || 1e-9;
    const r2 = r * r;
    for (let py = box.y0; py < box.y1; py++) {
      for (let px = box.x0; px < box.x1; px++) {
        const i = py * this.size + px;
        const qx = this.xs[i] - s.x0;
        const qy = this.ys[i] - s.y0;
        const t = Math.min(1, Math.max(0, (qx * ex + qy * ey) / len2));
        const dx = qx - t * ex;
        const dy = qy - t * ey;
        const d2 = dx * dx + dy * dy;
        if (d2 < r2) target[i] += a * Math.sqrt(1 - d2 / r2);
      }
    }
  }

  /** Add a sphere's chord length profile: amount · sqrt(1 − (d/r)²), an ellipse when ry ≠ rx. */
  addSphere(target: Float32Array, cx: number, cy: number, rx: number, ry: number, amount: number): void {
    const box = this.pixelBox({ x0: cx - rx, y0: cy - ry, x1: cx + rx, y1: cy + ry }, this.spacing);
    for (let py = box.y0; py < box.y1; py++) {
      for (let px = box.x0; px < box.x1; px++) {
        const i = py * this.size + px;
        const u = (this.xs[i] - cx) / rx;
        const v = (this.ys[i] - cy) / ry;
        const q = 1 - u * u - v * v;
        if (q > 0) target[i] += amount * Math.sqrt(q);
      }
    }
  }

  /**
   * Union of an opacity bump with what `target` holds (target = 1 − (1 − target)(1 − w)), where
   * w = amount · smoothstep(0, 0.6, 1 − d²) inside an ellipse: a plateau with a soft rim, never above 1.
   */
  unionBump(target: Float32Array, cx: number, cy: number, rx: number, ry: number, amount: number): void {
    const box = this.pixelBox({ x0: cx - rx, y0: cy - ry, x1: cx + rx, y1: cy + ry }, this.spacing);
    for (let py = box.y0; py < box.y1; py++) {
      for (let px = box.x0; px < box.x1; px++) {
        const i = py * this.size + px;
        const u = (this.xs[i] - cx) / rx;
        const v = (this.ys[i] - cy) / ry;
        const q = 1 - u * u - v * v;
        if (q > 0) {
          const t = q < 0.6 ? q / 0.6 : 1;
          const w = amount * t * t * (3 - 2 * t);
          target[i] = 1 - (1 - target[i]) * (1 - w);
        }
      }
    }
  }
}

/** Separable Gaussian blur in place (edges clamp). Radius 2.5σ; a σ under 0.2 px is a no-op. */
export function gaussianBlur(img: Float32Array, size: number, sigmaPx: number): void {
  const radius = blurRadiusPx(sigmaPx, 1);
  if (radius === 0) return;
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++)
    sum += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigmaPx * sigmaPx));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  // Pad each line by clamping its ends so the inner loop has no bounds checks.
  const padded = new Float32Array(size + 2 * radius);
  for (let pass = 0; pass < 2; pass++) {
    const stride = pass === 0 ? 1 : size;
    const step = pass === 0 ? size : 1;
    for (let l = 0; l < size; l++) {
      const base = l * step;
      for (let j = 0; j < size; j++) padded[j + radius] = img[base + j * stride];
      for (let k = 0; k < radius; k++) {
        padded[k] = padded[radius];
        padded[size + radius + k] = padded[size + radius - 1];
      }
      for (let j = 0; j < size; j++) {
        let acc = 0;
        for (let k = 0; k < kernel.length; k++) acc += kernel[k] * padded[j + k];
        img[base + j * stride] = acc;
      }
    }
  }
}

/** Blur radius in pixels for a blur of `blurMm` at this spacing (what counterfactual margins must allow). */
export function blurRadiusPx(blurMm: number, spacing: number): number {
  const sigma = blurMm / spacing;
  return sigma < 0.2 ? 0 : Math.ceil(2.5 * sigma);
}
