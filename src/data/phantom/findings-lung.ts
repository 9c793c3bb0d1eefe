/** Parenchymal findings: consolidation, lung opacity, nodule, mass, atelectasis, edema. */
import { Rng } from '../random.ts';
import {
  type BoxMm,
  costophrenicY,
  hemithoraxBox,
  hilum,
  lateralX,
  lungPoint,
  unionBox,
  zoneRows,
} from './geometry.ts';
import { bySeverity, type FindingPlan, type PlanContext, sideSigns } from './plan.ts';

const CONSOLIDATION_RADIUS_MM = { mild: [14, 20], moderate: [25, 34], severe: [38, 50] } as const;
const OPACITY_RADIUS_MM = { mild: [18, 26], moderate: [30, 40], severe: [44, 56] } as const;
const EDEMA_HAZE = { mild: [0.25, 0.3], moderate: [0.38, 0.45], severe: [0.52, 0.6] } as const;
const KERLEY_LINES = { mild: [3, 4], moderate: [5, 6], severe: [7, 8] } as const;
/** Upper-zone vessel calibre gain of edema (vascular redistribution). */
export const EDEMA_UPPER_VESSEL_GAIN = { mild: 1.3, moderate: 1.5, severe: 1.7 } as const;

interface Bump {
  x: number;
  y: number;
  rx: number;
  ry: number;
  amount: number;
}

function boxOfBumps(bumps: Bump[]): BoxMm {
  let box: BoxMm | undefined;
  for (const b of bumps)
    box = unionBox(box, { x0: b.x - b.rx, y0: b.y - b.ry, x1: b.x + b.rx, y1: b.y + b.ry });
  return box!;
}

/** Centre of a lesion in the finding's zone, drawn from its shape stream. */
function zoneCentre(ctx: PlanContext, r: Rng, fxLo: number, fxHi: number): { x: number; y: number } {
  const sgn = sideSigns(ctx.finding.side)[0];
  const rows = zoneRows(ctx.a, sgn, ctx.finding.zone ?? 'middle');
  const y = rows.y0 + (rows.y1 - rows.y0) * r.uniform(0.3, 0.7);
  return lungPoint(ctx.a, sgn, y, r.uniform(fxLo, fxHi));
}

/** Patchy airspace disease: overlapping soft bumps that replace lung air by `density`. */
function patchPlan(
  ctx: PlanContext,
  radius: number,
  density: number,
  lobes: number,
  r: Rng,
  bronchi: boolean,
): FindingPlan {
  const c = zoneCentre(ctx, r, 0.3, 0.65);
  const bumps: Bump[] = [];
  for (let k = 0; k < lobes; k++) {
    const ang = r.uniform(0, 2 * Math.PI);
    const off = radius * r.uniform(0, 0.6);
    bumps.push({
      x: c.x + Math.cos(ang) * off,
      y: c.y + Math.sin(ang) * off * 0.8,
      rx: radius * r.uniform(0.55, 0.9),
      ry: radius * r.uniform(0.5, 0.85),
      amount: density * r.uniform(0.6, 0.9),
    });
  }
  const sgn = sideSigns(ctx.finding.side)[0];
  // Air bronchograms: branching dark tubes inside the dense part, pointing away from the hilum.
  const tubes = bronchi
    ? [0, 1, 2].map(() => {
        const ang = r.uniform(-0.5, 0.5);
        const len = radius * r.uniform(0.4, 0.7);
        const x0 = c.x - sgn * radius * 0.3;
        return { x0, y0: c.y, x1: x0 + sgn * Math.cos(ang) * len, y1: c.y + Math.sin(ang) * len };
      })
    : [];
  let box = boxOfBumps(bumps);
  for (const t of tubes)
    box = unionBox(box, {
      x0: Math.min(t.x0, t.x1) - 2,
      y0: Math.min(t.y0, t.y1) - 2,
      x1: Math.max(t.x0, t.x1) + 2,
      y1: Math.max(t.y0, t.y1) + 2,
    });
  return {
    box,
    draw(raster, layers) {
      for (const b of bumps) raster.unionBump(layers.airless, b.x, b.y, b.rx, b.ry, b.amount);
      for (const t of tubes) raster.addCapsule(layers.dense, t, 1.6, -0.05);
    },
  };
}

export function consolidationPlan(ctx: PlanContext): FindingPlan {
  const r = Rng.derive(ctx.seed, 'shape:consolidation');
  const radius = bySeverity(ctx.finding, CONSOLIDATION_RADIUS_MM, r.next());
  return patchPlan(ctx, radius, 0.8, 9, r, true);
}

export function lungOpacityPlan(ctx: PlanContext): FindingPlan {
  const r = Rng.derive(ctx.seed, 'shape:lung_opacity');
  const radius = bySeverity(ctx.finding, OPACITY_RADIUS_MM, r.next());
  return patchPlan(ctx, radius, 0.33, 5, r, false);
}

/** A solid round lesion: attenuation ∝ chord through a sphere of the labelled diameter. */
function roundLesionPlan(ctx: PlanContext, label: 'nodule' | 'mass'): FindingPlan {
  const r = Rng.derive(ctx.seed, `shape:${label}`);
  const c = zoneCentre(ctx, r, 0.25, 0.75);
  const radius = (ctx.finding.size_mm ?? 10) / 2;
  // Small nodules are also fainter (less dense, partly volume-averaged): the subtle cases.
  const density = label === 'nodule' ? (radius < 5 ? r.uniform(0.45, 0.7) : r.uniform(0.8, 1.1)) : 0.8;
  const amount = (1.6 * density * 2 * radius) / 200;
  const lobes =
    label === 'mass'
      ? [0, 1, 2].map(() => ({
          x: c.x + r.uniform(-0.3, 0.3) * radius,
          y: c.y + r.uniform(-0.3, 0.3) * radius,
          rr: radius * r.uniform(0.55, 0.75),
        }))
      : [];
  const reach = radius * 1.3;
  return {
    box: { x0: c.x - reach, y0: c.y - reach, x1: c.x + reach, y1: c.y + reach },
    draw(raster, layers) {
      raster.addSphere(layers.dense, c.x, c.y, radius, radius, lobes.length ? amount * 0.6 : amount);
      for (const l of lobes) raster.addSphere(layers.dense, l.x, l.y, l.rr, l.rr, amount * 0.4);
    },
  };
}

export function nodulePlan(ctx: PlanContext): FindingPlan {
  return roundLesionPlan(ctx, 'nodule');
}

export function massPlan(ctx: PlanContext): FindingPlan {
  return roundLesionPlan(ctx, 'mass');
}

/** Plate-like (discoid) atelectasis: a thin, nearly horizontal band of airless lung. */
export function atelectasisPlan(ctx: PlanContext): FindingPlan {
  const r = Rng.derive(ctx.seed, 'shape:atelectasis');
  const c = zoneCentre(ctx, r, 0.35, 0.65);
  const half = r.uniform(18, 32);
  const tilt = r.uniform(-0.25, 0.25);
  const seg = {
    x0: c.x - Math.cos(tilt) * half,
    y0: c.y - Math.sin(tilt) * half,
    x1: c.x + Math.cos(tilt) * half,
    y1: c.y + Math.sin(tilt) * half,
  };
  const radius = r.uniform(2.2, 3.5);
  return {
    box: {
      x0: Math.min(seg.x0, seg.x1) - radius,
      y0: Math.min(seg.y0, seg.y1) - radius,
      x1: Math.max(seg.x0, seg.x1) + radius,
      y1: Math.max(seg.y0, seg.y1) + radius,
    },
    draw(raster, layers) {
      raster.addCapsule(layers.dense, seg, radius, 0.14);
    },
  };
}

/** Bilateral perihilar (bat-wing) haze, Kerley B lines at the lateral bases; vessels are done by render. */
export function edemaPlan(ctx: PlanContext): FindingPlan {
  const { a, finding } = ctx;
  const r = Rng.derive(ctx.seed, 'shape:edema');
  const haze = bySeverity(finding, EDEMA_HAZE, r.next());
  const lines = Math.round(bySeverity(finding, KERLEY_LINES, r.next()));
  const bumps: Bump[] = [];
  const kerley: { x0: number; y0: number; x1: number; y1: number }[] = [];
  for (const sgn of [-1, 1] as const) {
    const h = hilum(a, sgn);
    bumps.push({ x: h.x + sgn * 28, y: h.y + 12, rx: 62, ry: 72, amount: haze });
    bumps.push({ x: h.x + sgn * 18, y: h.y - 8, rx: 38, ry: 40, amount: haze * 0.6 });
    const base = costophrenicY(a, sgn);
    for (let k = 0; k < lines; k++) {
      const y = base - a.cpa_depth_mm - 8 - k * r.uniform(5, 8);
      const x0 = sgn * (lateralX(a, sgn, y) - 0.5);
      kerley.push({ x0, y0: y, x1: x0 - sgn * r.uniform(10, 18), y1: y + r.uniform(-1, 1) });
    }
  }
  return {
    // Both lungs: the upper-zone vessels change too (render.ts draws them with EDEMA_UPPER_VESSEL_GAIN).
    box: unionBox(unionBox(hemithoraxBox(a, -1), hemithoraxBox(a, 1)), boxOfBumps(bumps)),
    draw(raster, layers) {
      for (const b of bumps) raster.unionBump(layers.airless, b.x, b.y, b.rx, b.ry, b.amount);
      for (const s of kerley) raster.addCapsule(layers.dense, s, 0.8, 0.09);
    },
  };
}
