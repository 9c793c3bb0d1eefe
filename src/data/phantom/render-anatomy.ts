/**
 * Normal anatomy as attenuation layers. Units: 1 ≈ the soft tissue of the chest's midline thickness.
 * The final attenuation (render.ts) is  tissue·(1 − air·(1 − airless)) + bone + dense + vessel·gate.
 */
import { Rng } from '../random.ts';
import {
  type Anatomy,
  apexTopY,
  FIELD_OF_VIEW_MM,
  halfWidth,
  hilum,
  LungField,
  type SideSign,
  smoothstep,
} from './geometry.ts';
import { type Raster, type Segment, scratch } from './raster.ts';

export interface Layers {
  /** Soft-tissue thickness along the ray (0 outside the body). */
  tissue: Float32Array;
  /** Fraction of that thickness that is air (lungs, trachea, gastric bubble). */
  air: Float32Array;
  /** Opacity of lung air replaced by fluid or cells (findings), union-combined, in [0, 1]. */
  airless: Float32Array;
  /** Soft lung membership, both lungs (vessel visibility). */
  lung: Float32Array;
  bone: Float32Array;
  /** Additive attenuation of lesions, devices and lines. */
  dense: Float32Array;
  vessel: Float32Array;
  /** Where lung markings show (0 beyond a pneumothorax's pleural line). */
  gate: Float32Array;
}

/** A rib cortical break with a small step-off, drawn by the rib pass. */
export interface RibBreak {
  sgn: SideSign;
  rib: number;
  /** Lateral position as a fraction of the half-width. */
  s: number;
  stepMm: number;
}

const RIB_DENSITY = 0.075;

/** Posterior rib centre line, rising slightly from the spine then curving down at the chest wall. */
function posteriorRibOffset(s: number): number {
  return 40 * (s - 0.45) ** 2 - 8 + 25 * s ** 6;
}

/** Anterior rib centre line, from the lateral wall down towards the sternum. */
function anteriorRibOffset(s: number): number {
  return 28 + 55 * (1 - s) ** 1.15;
}

/** Rib centre-line offsets tabulated over s ∈ [0, 1.1) (pow per pixel was the render hot spot). */
const RIB_TABLE_SIZE = 1100;
const POSTERIOR_TABLE = Float64Array.from({ length: RIB_TABLE_SIZE + 1 }, (_, k) =>
  posteriorRibOffset(k / 1000),
);
const ANTERIOR_TABLE = Float64Array.from({ length: RIB_TABLE_SIZE + 1 }, (_, k) =>
  anteriorRibOffset(k / 1000),
);

function tabulated(table: Float64Array, s: number): number {
  const f = Math.min(RIB_TABLE_SIZE - 0.001, s * 1000);
  const k = f | 0;
  return table[k] + (table[k + 1] - table[k]) * (f - k);
}

const ROW_STEP = 0.5;
const ROW_Y0 = -60;
const ROW_COUNT = Math.ceil((FIELD_OF_VIEW_MM + 120) / ROW_STEP) + 2;

/** A function of the row y tabulated every 0.5 mm over the detector (and a margin). */
function rowTable(f: (y: number) => number): Float64Array {
  return Float64Array.from({ length: ROW_COUNT }, (_, r) => f(ROW_Y0 + r * ROW_STEP));
}

function lookupRow(table: Float64Array, y: number): number {
  const f = Math.min(ROW_COUNT - 1.001, Math.max(0, (y - ROW_Y0) / ROW_STEP));
  const r = f | 0;
  return table[r] + (table[r + 1] - table[r]) * (f - r);
}

function firstRibY(a: Anatomy): number {
  return a.apex_y_mm - 4;
}

/** Centre row of posterior rib `rib` at lateral fraction s (used to place fractures). */
export function ribCentreY(a: Anatomy, rib: number, s: number): number {
  return firstRibY(a) + rib * a.rib_spacing_mm + posteriorRibOffset(s);
}

/** Body half-width at row y: neck, shoulders, then the trunk. */
function bodyHalfWidth(a: Anatomy, y: number): number {
  const trunk = halfWidth(a) + a.soft_tissue_mm + 14;
  const neck = 48 + 0.4 * a.soft_tissue_mm;
  // Shoulders slope from the neck to just above the apex, a little wider than the chest below.
  const t = smoothstep(a.apex_y_mm - 75, a.apex_y_mm + 5, y);
  const shoulder = neck + (trunk + 22 - neck) * Math.sqrt(t);
  return y < a.apex_y_mm + 5 ? shoulder : trunk + 22 * smoothstep(a.apex_y_mm + 60, a.apex_y_mm + 5, y);
}

/** Zeroed layers for n pixels (pooled buffers: valid until the next render). */
export function newLayers(n: number): Layers {
  return {
    tissue: scratch('tissue', n),
    air: scratch('air', n),
    airless: scratch('airless', n),
    lung: scratch('lung', n),
    bone: scratch('bone', n),
    dense: scratch('dense', n),
    vessel: scratch('vessel', n),
    gate: scratch('gate', n, 1),
  };
}

/** Body, lungs, trachea, spine and ribs: one pass over all pixels. */
export function drawBodyAndBones(a: Anatomy, raster: Raster, layers: Layers, ribBreak?: RibBreak): void {
  const { xs, ys, n } = raster;
  const hw = halfWidth(a);
  const tissueScale = 0.85 + 0.3 * a.habitus;
  const ribTop = firstRibY(a);
  const sp = a.rib_spacing_mm;
  const th = a.rib_thickness_mm / 2;
  const tw = a.trachea_width_mm / 2;
  const field = new LungField(a);
  const bodyHalf = rowTable((y) => bodyHalfWidth(a, y));
  const apexY = a.apex_y_mm;
  const carinaY = a.carina_y_mm;
  const domes = [a.dome_right_y_mm, a.dome_left_y_mm];
  const ribCount = a.rib_count;
  const bubble = a.gastric_bubble ? { x: 0.42 * hw, y: a.dome_left_y_mm + 24 } : undefined;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    const ax = Math.abs(x);
    const b = lookupRow(bodyHalf, y);
    const q = 1 - (x / b) * (x / b);
    if (q <= 0) continue;
    // A flattened body section (≈ q^0.35): the chest wall seen tangentially stays bright, fading at the skin.
    layers.tissue[i] = tissueScale * Math.sqrt(Math.sqrt(q)) * (0.8 + 0.2 * q);
    const sgn: SideSign = x < 0 ? -1 : 1;
    const depth = field.depth(x, y);
    let air = 0;
    if (depth > -6) {
      const m = smoothstep(-1.5, 1.5, depth);
      layers.lung[i] = m;
      // Lungs are thickest mid-hemithorax and thin towards the apex and the chest wall.
      const rel = (ax - 0.5 * hw) / (0.6 * hw);
      const thick = 0.52 + 0.22 * Math.sqrt(Math.max(0, 1 - rel * rel));
      // Overlying soft tissue (breasts, posterior recesses) makes the bases and apices less lucent.
      const dome = domes[sgn < 0 ? 0 : 1];
      const base = 1 - 0.18 * smoothstep(dome - 90, dome + 10, y);
      const top = apexTopY(a, x);
      air =
        m *
        thick *
        base *
        (0.85 + 0.15 * smoothstep(0, 6, depth)) *
        (0.75 + 0.25 * smoothstep(top, top + 50, y));
    }
    if (y < carinaY + 2) air += 0.2 * smoothstep(tw + 1, tw - 1, Math.abs(x + 2));
    if (bubble) {
      const u = (x - bubble.x) / 32;
      const v = (y - bubble.y) / 16;
      const q2 = 1 - u * u - v * v;
      if (q2 > 0) air += 0.28 * Math.sqrt(q2) * smoothstep(bubble.y + 14, bubble.y - 2, y);
    }
    layers.air[i] = air;

    // Spine: vertebral bodies with darker disc spaces, visible through the mediastinum.
    let bone = 0;
    if (ax < 26) {
      const phase = (y - apexY) / (sp * 0.9);
      const disc = 1 - 0.45 * Math.exp(-(((phase - Math.round(phase)) / 0.12) ** 2));
      bone += 0.07 * smoothstep(24, 19, ax) * disc + 0.03 * Math.exp(-((ax / 5) ** 2));
    }
    // Ribs: only the nearest rib index can cover a pixel since spacing > thickness.
    const s = ax / hw;
    if (s > 0.1 && s < 1.04 && y > ribTop - 30) {
      const post = y - ribTop - tabulated(POSTERIOR_TABLE, s);
      let k = Math.round(post / sp);
      if (k >= 0 && k < ribCount) {
        let d = post - k * sp;
        if (ribBreak && ribBreak.sgn === sgn && ribBreak.rib === k) {
          const dl = (s - ribBreak.s) * hw;
          if (dl > 0 && dl < 16) d -= ribBreak.stepMm * (1 - (dl / 16) ** 2) ** 2;
          if (Math.abs(dl) < 1.2) d = 99;
        }
        const ad = Math.abs(d);
        if (ad < th + 1) {
          const u2 = (ad / th) * (ad / th);
          bone +=
            RIB_DENSITY * (0.55 + 0.45 * u2 * u2) * smoothstep(th + 1, th - 1, ad) * smoothstep(0.1, 0.16, s);
        }
      }
      if (s > 0.35) {
        const ant = y - ribTop - tabulated(ANTERIOR_TABLE, s);
        k = Math.round(ant / sp);
        if (k >= 0 && k < ribCount - 2) {
          const ad = Math.abs(ant - k * sp);
          bone += 0.45 * RIB_DENSITY * smoothstep(th + 1, th - 2, ad) * smoothstep(0.35, 0.5, s);
        }
      }
    }
    layers.bone[i] = bone;
  }
  drawClavicles(a, raster, layers);
  drawAirways(a, raster, layers);
}

function drawClavicles(a: Anatomy, raster: Raster, layers: Layers): void {
  const hw = halfWidth(a);
  for (const sgn of [-1, 1]) {
    const pts = [
      { x: sgn * 16, y: a.apex_y_mm + 40 },
      { x: sgn * hw * 0.35, y: a.apex_y_mm + 28 },
      { x: sgn * hw * 0.75, y: a.apex_y_mm + 20 },
      { x: sgn * (hw + 24), y: a.apex_y_mm },
    ];
    for (let j = 0; j < pts.length - 1; j++) {
      const seg = { x0: pts[j].x, y0: pts[j].y, x1: pts[j + 1].x, y1: pts[j + 1].y };
      raster.addCapsule(layers.bone, seg, 6.5, 0.14);
    }
  }
}

/** Main bronchi below the carina (the trachea is drawn in the body pass). */
function drawAirways(a: Anatomy, raster: Raster, layers: Layers): void {
  const c = { x: -2, y: a.carina_y_mm };
  raster.addCapsule(layers.air, { x0: c.x, y0: c.y, x1: c.x - 22, y1: c.y + 28 }, 6, 0.2);
  raster.addCapsule(layers.air, { x0: c.x, y0: c.y, x1: c.x + 34, y1: c.y + 26 }, 5.5, 0.2);
}

export interface VesselSegment extends Segment {
  radius: number;
}

/** Pulmonary vessel tree of both lungs (mm), from the seed's 'vessels' stream only. */
export function vesselTree(a: Anatomy, seed: number): VesselSegment[] {
  const r = Rng.derive(seed, 'vessels');
  const out: VesselSegment[] = [];
  const grow = (x: number, y: number, angle: number, len: number, radius: number, depth: number) => {
    const x1 = x + Math.cos(angle) * len;
    const y1 = y + Math.sin(angle) * len;
    out.push({ x0: x, y0: y, x1, y1, radius });
    if (depth === 0) return;
    for (const turn of [-1, 1]) {
      const a2 = angle + turn * r.uniform(0.2, 0.55);
      grow(x1, y1, a2, len * r.uniform(0.62, 0.82), radius * 0.72, depth - 1);
    }
  };
  for (const sgn of [-1, 1] as const) {
    const h = hilum(a, sgn);
    const trunks = 9;
    for (let t = 0; t < trunks; t++) {
      const theta = -1.35 + (2.6 * (t + r.uniform(0.2, 0.8))) / trunks;
      const angle = sgn > 0 ? theta : Math.PI - theta;
      const x0 = h.x + sgn * r.uniform(0, 8);
      const y0 = h.y + r.uniform(-10, 10);
      grow(x0, y0, angle, r.uniform(22, 34), r.uniform(2.2, 3), 4);
    }
  }
  return out;
}

/**
 * Draw the vessels; `upperGain` > 1 thickens the upper-zone vessels (cephalisation of edema).
 * Normal lungs have larger basal than apical vessels (gravity).
 */
export function drawVessels(
  a: Anatomy,
  raster: Raster,
  layers: Layers,
  tree: VesselSegment[],
  upperGain: number,
): void {
  const top = a.apex_y_mm;
  const h = a.carina_y_mm - top;
  // Hilar shadows: the pulmonary arteries where they leave the mediastinum.
  for (const sgn of [-1, 1] as const) {
    const c = hilum(a, sgn);
    raster.addSphere(layers.dense, c.x - sgn * 4, c.y, 14, 24, 0.07);
  }
  for (const v of tree) {
    const ym = (v.y0 + v.y1) / 2;
    const basal = 0.85 + 0.3 * smoothstep(top, a.dome_right_y_mm, ym);
    const gain = 1 + (upperGain - 1) * smoothstep(a.carina_y_mm + 20, top + 0.5 * h, ym);
    raster.addCapsule(layers.vessel, v, v.radius * Math.sqrt(gain), 0.028 * v.radius * basal * gain);
  }
}
