/** Support devices (endotracheal tube, central venous line) and rib fracture. */
import { Rng } from '../random.ts';
import type { TipPosition } from '../types.ts';
import { type Anatomy, type BoxMm, halfWidth, unionBox } from './geometry.ts';
import { type FindingPlan, type PlanContext, sideSigns } from './plan.ts';
import type { Segment } from './raster.ts';
import { type RibBreak, ribCentreY } from './render-anatomy.ts';

interface Point {
  x: number;
  y: number;
}

function boxOfPath(path: Point[], pad: number): BoxMm {
  let box: BoxMm | undefined;
  for (const p of path) box = unionBox(box, { x0: p.x - pad, y0: p.y - pad, x1: p.x + pad, y1: p.y + pad });
  return box!;
}

function segmentsOf(path: Point[], dx = 0): Segment[] {
  const out: Segment[] = [];
  for (let k = 0; k < path.length - 1; k++)
    out.push({ x0: path[k].x + dx, y0: path[k].y, x1: path[k + 1].x + dx, y1: path[k + 1].y });
  return out;
}

/** Tip of an endotracheal tube relative to the carina: 3–6 cm above is appropriate. */
export function ettTipY(a: Anatomy, tip: TipPosition, u: number): number {
  if (tip === 'appropriate') return a.carina_y_mm - (30 + 30 * u);
  if (tip === 'too_high') return a.carina_y_mm - (88 + 22 * u);
  return a.carina_y_mm + 4 + 10 * u;
}

export function endotrachealTubePlan({ a, seed, finding }: PlanContext): FindingPlan {
  const u = Rng.derive(seed, 'shape:endotracheal_tube');
  const tipY = ettTipY(a, finding.tip ?? 'appropriate', u.next());
  const path: Point[] = [{ x: -2, y: -5 }];
  // Past the carina the tube enters the steeper, straighter right main bronchus.
  if (tipY > a.carina_y_mm)
    path.push({ x: -2, y: a.carina_y_mm }, { x: -2 - 0.75 * (tipY - a.carina_y_mm), y: tipY });
  else path.push({ x: -2, y: tipY });
  const walls = [...segmentsOf(path, -4), ...segmentsOf(path, 4)];
  const stripe = segmentsOf(path, 3.2);
  return {
    box: boxOfPath(path, 7),
    draw(raster, layers) {
      for (const s of walls) raster.addCapsule(layers.dense, s, 0.9, 0.05);
      for (const s of stripe) raster.addCapsule(layers.dense, s, 0.7, 0.12);
    },
  };
}

/**
 * Central venous catheter from the subclavian region to the SVC. Tip: the low SVC / cavo-atrial
 * junction is appropriate, the right atrium is too low, the brachiocephalic vein too high.
 */
export function centralLinePlan({ a, seed, finding }: PlanContext): FindingPlan {
  const u = Rng.derive(seed, 'shape:central_line');
  const sgn = sideSigns(finding.side)[0];
  const hw = halfWidth(a);
  const svcX = -(a.mediastinum_width_mm / 2 - 7);
  const svcTop = a.aortic_knob_y_mm - 6;
  const path: Point[] = [
    { x: sgn * hw * 0.72, y: a.apex_y_mm + 36 },
    { x: sgn * hw * 0.3, y: a.apex_y_mm + 46 + 4 * u.next() },
    { x: svcX + (sgn > 0 ? 6 : -2), y: svcTop },
  ];
  const tip = finding.tip ?? 'appropriate';
  if (tip === 'too_high') {
    const p = path[1];
    const q = path[2];
    path[2] = { x: p.x + 0.6 * (q.x - p.x), y: p.y + 0.6 * (q.y - p.y) };
  } else {
    const depth = tip === 'appropriate' ? 15 + 20 * u.next() : 60 + 25 * u.next();
    path.push({ x: svcX, y: a.carina_y_mm + depth });
  }
  const segs = segmentsOf(path);
  return {
    box: boxOfPath(path, 3),
    draw(raster, layers) {
      for (const s of segs) raster.addCapsule(layers.dense, s, 1.1, 0.16);
    },
  };
}

const FRACTURE_RIBS = { upper: [2, 3], middle: [4, 5], lower: [6, 7] } as const;

/** The break the rib pass draws: posterolateral, with a 1.5–4 mm step-off. */
export function ribBreakOf({ seed, finding }: PlanContext): RibBreak {
  const r = Rng.derive(seed, 'shape:rib_fracture');
  const ribs = FRACTURE_RIBS[finding.zone ?? 'middle'];
  return {
    sgn: sideSigns(finding.side)[0],
    rib: ribs[r.int(0, 1)],
    s: r.uniform(0.68, 0.9),
    stepMm: r.uniform(1.5, 4),
  };
}

export function ribFracturePlan(ctx: PlanContext): FindingPlan {
  const b = ribBreakOf(ctx);
  const hw = halfWidth(ctx.a);
  const x = b.sgn * b.s * hw;
  const reach = 22 / hw;
  const ys = [b.s - reach, b.s, b.s + reach].map((s) => ribCentreY(ctx.a, b.rib, s));
  return {
    box: { x0: x - 22, y0: Math.min(...ys) - 12, x1: x + 22, y1: Math.max(...ys) + 12 },
    // Drawn inside the rib pass (render-anatomy.ts); nothing to add here.
    draw() {},
  };
}
