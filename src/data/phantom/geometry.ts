/**
 * Patient geometry of a phantom, in millimetres. x runs from the patient's right (negative, image left)
 * to the patient's left (positive); y runs down from the top edge of the detector. The detector is a
 * square FIELD_OF_VIEW_MM wide, so pixel spacing is FIELD_OF_VIEW_MM / size.
 *
 * Every function here reads only the anatomy record, so a finding can never move the anatomy.
 */
import type { Zone } from '../types.ts';

/** Side of a 43 cm detector, the usual chest cassette. */
export const FIELD_OF_VIEW_MM = 430;

/** Sampled patient parameters; all lengths in mm (see anatomy.ts for ranges). */
export type Anatomy = Record<string, number>;

/** -1 for the patient's right hemithorax (image left), +1 for the left. */
export type SideSign = -1 | 1;

export const ZONES: readonly Zone[] = ['upper', 'middle', 'lower'];

export function smoothstep(e0: number, e1: number, v: number): number {
  const t = Math.min(1, Math.max(0, (v - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

export function halfWidth(a: Anatomy): number {
  return a.thorax_width_mm / 2;
}

export function domeY(a: Anatomy, sgn: SideSign): number {
  return sgn < 0 ? a.dome_right_y_mm : a.dome_left_y_mm;
}

/** Row of the costophrenic angle: the diaphragm meets the lateral chest wall. */
export function costophrenicY(a: Anatomy, sgn: SideSign): number {
  return domeY(a, sgn) + a.cpa_depth_mm;
}

/** Inner chest wall at row y: widening from the apex to the full half-width at the costophrenic angle. */
export function lateralX(a: Anatomy, sgn: SideSign, y: number): number {
  const t = (y - a.apex_y_mm) / (costophrenicY(a, sgn) - a.apex_y_mm);
  const k = Math.min(1, Math.max(0, 1 - t));
  return halfWidth(a) * (1 - 0.36 * k ** 2.4);
}

/** Lung apex dome: the top of each lung is highest at 45 % of the half-width from the midline. */
export function apexTopY(a: Anatomy, x: number): number {
  const hw = halfWidth(a);
  const u = (Math.abs(x) - 0.45 * hw) / (0.55 * hw);
  return a.apex_y_mm + 55 * u * u;
}

/** Hemidiaphragm: a parabola peaking at mid-hemithorax, falling to the costophrenic angle. */
export function diaphragmY(a: Anatomy, sgn: SideSign, x: number): number {
  const hw = halfWidth(a);
  const peak = 0.45 * hw;
  const u = (Math.abs(x) - peak) / (hw - peak);
  return domeY(a, sgn) + a.cpa_depth_mm * u * u;
}

export interface HeartShape {
  /** Distance of the right heart border from the midline at its widest (right atrium). */
  right: number;
  /** Distance of the left heart border from the midline at its widest (cardiac apex). */
  left: number;
  /** Rows of the widest right and left borders. */
  rightRow: number;
  leftRow: number;
  /** Rows where the right and left borders leave the mediastinum. */
  rightTop: number;
  leftTop: number;
}

/**
 * The cardiac silhouette: right border a third, left border two thirds of the heart width from the
 * midline (CTR = (right + left) / thorax width). Each border bulges out of the mediastinum along a
 * quarter ellipse to its widest row just above the dome, then tucks in slightly into the diaphragm.
 */
export function heartShape(a: Anatomy): HeartShape {
  const width = a.heart_width_mm;
  const right = width * a.heart_right_share;
  return {
    right,
    left: width - right,
    rightRow: a.dome_right_y_mm - 18,
    leftRow: a.dome_left_y_mm - 14,
    rightTop: a.carina_y_mm + 16,
    leftTop: a.carina_y_mm + 8,
  };
}

function heartBorder(a: Anatomy, sgn: SideSign, y: number): number {
  const h = heartShape(a);
  const top = sgn > 0 ? h.leftTop : h.rightTop;
  const row = sgn > 0 ? h.leftRow : h.rightRow;
  const full = sgn > 0 ? h.left : h.right;
  if (y <= top) return 0;
  const base = a.mediastinum_width_mm / 2;
  if (y < row) {
    const p = (y - top) / (row - top);
    return base + (full - base) * Math.sin((p * Math.PI) / 2) ** 1.6;
  }
  const d = (y - row) / 40;
  return full * (1 - 0.12 * Math.min(1, d * d));
}

/** Distance of the mediastinal or cardiac border from the midline at row y, on one side. */
export function medialX(a: Anatomy, sgn: SideSign, y: number): number {
  let m = a.mediastinum_width_mm / 2;
  if (sgn > 0) m += 12 * Math.exp(-(((y - a.aortic_knob_y_mm) / 14) ** 2));
  return Math.max(m, heartBorder(a, sgn, y));
}

/** Approximate signed distance (mm, positive inside) to the boundary of one lung. */
export function lungDepth(a: Anatomy, sgn: SideSign, x: number, y: number): number {
  if (x * sgn <= 0) return -Math.abs(x);
  const ax = Math.abs(x);
  const lateral = lateralX(a, sgn, y) - ax;
  const medial = ax - medialX(a, sgn, y);
  const top = (y - apexTopY(a, x)) * 0.8;
  const bottom = diaphragmY(a, sgn, x) - y;
  return Math.min(lateral, medial, top, bottom);
}

/** Soft lung membership in [0, 1] over a 3 mm edge. */
export function lungMask(a: Anatomy, sgn: SideSign, x: number, y: number): number {
  return smoothstep(-1.5, 1.5, lungDepth(a, sgn, x, y));
}

export function carinaY(a: Anatomy): number {
  return a.carina_y_mm;
}

export function hilum(a: Anatomy, sgn: SideSign): { x: number; y: number } {
  return { x: sgn * (a.mediastinum_width_mm / 2 + 14), y: a.carina_y_mm + (sgn < 0 ? 22 : 14) };
}

/** Vertical extent of a lung zone (thirds of the apex-to-dome height). */
export function zoneRows(a: Anatomy, sgn: SideSign, zone: Zone): { y0: number; y1: number } {
  const top = a.apex_y_mm + 8;
  const h = domeY(a, sgn) - top;
  const i = ZONES.indexOf(zone);
  return { y0: top + (h * i) / 3, y1: top + (h * (i + 1)) / 3 };
}

/**
 * A point inside the lung at fraction fx (0 medial, 1 lateral) across row y. The medial reference is
 * a nominal heart (CTR 0.45), not the patient's, so lesions do not move when cardiomegaly is edited.
 */
export function lungPoint(a: Anatomy, sgn: SideSign, y: number, fx: number): { x: number; y: number } {
  const nominal = { ...a, heart_width_mm: 0.45 * a.thorax_width_mm };
  const m = medialX(nominal, sgn, y) + 8;
  const l = lateralX(a, sgn, y) - 8;
  return { x: sgn * (m + (l - m) * fx), y };
}

export interface BoxMm {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function unionBox(a: BoxMm | undefined, b: BoxMm): BoxMm {
  if (!a) return { ...b };
  return {
    x0: Math.min(a.x0, b.x0),
    y0: Math.min(a.y0, b.y0),
    x1: Math.max(a.x1, b.x1),
    y1: Math.max(a.y1, b.y1),
  };
}

/** Bounding box of one hemithorax (lung plus its chest wall). */
export function hemithoraxBox(a: Anatomy, sgn: SideSign): BoxMm {
  const hw = halfWidth(a);
  const xs = [sgn * (a.mediastinum_width_mm / 2 - 2), sgn * (hw + 2)];
  return {
    x0: Math.min(...xs),
    x1: Math.max(...xs),
    y0: a.apex_y_mm - 2,
    y1: costophrenicY(a, sgn) + 2,
  };
}

/**
 * lungDepth with the row-dependent borders (lateral wall, mediastinum/heart) tabulated every 0.5 mm:
 * the per-pixel anatomy pass calls it once per pixel, and pow/sin per pixel dominated render time.
 */
export class LungField {
  private static readonly STEP = 0.5;
  private static readonly Y0 = -60;
  private readonly rows: number;
  private readonly lateral: Float64Array[];
  private readonly medial: Float64Array[];

  private readonly a: Anatomy;
  constructor(a: Anatomy) {
    this.a = a;
    this.rows = Math.ceil((FIELD_OF_VIEW_MM + 120) / LungField.STEP) + 2;
    this.lateral = [new Float64Array(this.rows), new Float64Array(this.rows)];
    this.medial = [new Float64Array(this.rows), new Float64Array(this.rows)];
    for (let r = 0; r < this.rows; r++) {
      const y = LungField.Y0 + r * LungField.STEP;
      for (const sgn of [-1, 1] as const) {
        const k = sgn < 0 ? 0 : 1;
        this.lateral[k][r] = lateralX(a, sgn, y);
        this.medial[k][r] = medialX(a, sgn, y);
      }
    }
  }

  depth(x: number, y: number): number {
    const a = this.a;
    const sgn: SideSign = x < 0 ? -1 : 1;
    const k = sgn < 0 ? 0 : 1;
    const f = Math.min(this.rows - 1.001, Math.max(0, (y - LungField.Y0) / LungField.STEP));
    const r = f | 0;
    const t = f - r;
    const lat = this.lateral[k][r] * (1 - t) + this.lateral[k][r + 1] * t;
    const med = this.medial[k][r] * (1 - t) + this.medial[k][r + 1] * t;
    const ax = Math.abs(x);
    const hw = a.thorax_width_mm / 2;
    const u = (ax - 0.45 * hw) / (0.55 * hw);
    const top = (y - (a.apex_y_mm + 55 * u * u)) * 0.8;
    const bottom = (sgn < 0 ? a.dome_right_y_mm : a.dome_left_y_mm) + a.cpa_depth_mm * u * u - y;
    return Math.min(lat - ax, ax - med, top, bottom);
  }
}
