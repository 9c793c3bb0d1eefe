/** Pleural findings: effusion (dependent fluid with a meniscus) and pneumothorax (collapsed lung). */
import { Rng } from '../random.ts';
import {
  type BoxMm,
  costophrenicY,
  domeY,
  halfWidth,
  hemithoraxBox,
  lungDepth,
  type SideSign,
  smoothstep,
  unionBox,
} from './geometry.ts';
import { bySeverity, type FindingPlan, type PlanContext, sideSigns } from './plan.ts';

/** Fluid height above the costophrenic angle, mm: small effusions only blunt the angle. */
const EFFUSION_HEIGHT_MM = { mild: [12, 22], moderate: [45, 75], severe: [100, 150] } as const;
/** Apical gap between the visceral pleural line and the apex, mm. */
const PNEUMOTHORAX_GAP_MM = { mild: [8, 15], moderate: [22, 35], severe: [45, 70] } as const;

export function effusionPlan({ a, seed, finding }: PlanContext): FindingPlan {
  const u = Rng.derive(seed, 'shape:pleural_effusion');
  const hw = halfWidth(a);
  const inner = a.mediastinum_width_mm / 2;
  const sides = sideSigns(finding.side).map((sgn) => {
    const height = bySeverity(finding, EFFUSION_HEIGHT_MM, u.next());
    const level = costophrenicY(a, sgn) - height;
    // The meniscus climbs the lateral chest wall; larger effusions climb higher.
    const meniscus = 8 + 0.3 * height;
    return { sgn, level, meniscus };
  });
  let box: BoxMm | undefined;
  for (const s of sides) {
    const xs = [s.sgn * (inner - 2), s.sgn * (hw + 3)];
    box = unionBox(box, {
      x0: Math.min(...xs),
      x1: Math.max(...xs),
      y0: s.level - s.meniscus - 6,
      y1: costophrenicY(a, s.sgn) + 3,
    });
  }
  return {
    box: box!,
    draw(raster, layers) {
      for (const s of sides) {
        const pb = raster.pixelBox({
          x0: Math.min(s.sgn * inner, s.sgn * (hw + 3)),
          x1: Math.max(s.sgn * inner, s.sgn * (hw + 3)),
          y0: s.level - s.meniscus - 6,
          y1: costophrenicY(a, s.sgn) + 3,
        });
        for (let py = pb.y0; py < pb.y1; py++) {
          for (let px = pb.x0; px < pb.x1; px++) {
            const i = py * raster.size + px;
            const x = raster.xs[i];
            if (x * s.sgn < inner) continue;
            const lat = Math.min(1, Math.max(0, (Math.abs(x) - inner) / (hw - inner)));
            const top = s.level - s.meniscus * lat * lat;
            // Homogeneous below the meniscus, fading over a few mm at its upper edge.
            const w = 0.97 * smoothstep(top - 5, top + 14, raster.ys[i]);
            if (w > 0) layers.airless[i] = 1 - (1 - layers.airless[i]) * (1 - w);
          }
        }
      }
    },
  };
}

interface Collapse {
  sgn: SideSign;
  ax: number;
  ay: number;
  sx: number;
  sy: number;
}

/** Gap membership of a point: inside the lung, outside the collapsed lung; plus the pleural-line distance. */
function gapAt(a: PlanContext['a'], c: Collapse, x: number, y: number): { gap: number; line: number } {
  const outer = smoothstep(-1.5, 1.5, lungDepth(a, c.sgn, x, y));
  if (outer === 0) return { gap: 0, line: 0 };
  const depth =
    lungDepth(a, c.sgn, c.ax + (x - c.ax) / c.sx, c.ay + (y - c.ay) / c.sy) * Math.min(c.sx, c.sy);
  const inner = smoothstep(-0.8, 0.8, depth);
  return { gap: outer * (1 - inner), line: outer * Math.exp(-((depth / 0.9) ** 2)) };
}

export function pneumothoraxPlan({ a, seed, finding }: PlanContext): FindingPlan {
  const u = Rng.derive(seed, 'shape:pneumothorax');
  const sgn = sideSigns(finding.side)[0];
  const gapMm = bySeverity(finding, PNEUMOTHORAX_GAP_MM, u.next());
  // The lung shrinks towards a point low and mid-hemithorax, so the gap is widest at the apex.
  const ax = sgn * 0.45 * halfWidth(a);
  const ay = domeY(a, sgn) - 15;
  const sy = 1 - gapMm / (ay - a.apex_y_mm);
  const c: Collapse = { sgn, ax, ay, sx: 1 - 0.6 * (1 - sy), sy };
  const hemi = hemithoraxBox(a, sgn);
  let box: BoxMm | undefined;
  for (let y = hemi.y0; y <= hemi.y1; y += 2)
    for (let x = hemi.x0; x <= hemi.x1; x += 2) {
      const g = gapAt(a, c, x, y);
      if (g.gap > 0.01 || g.line > 0.01) box = unionBox(box, { x0: x - 3, y0: y - 3, x1: x + 3, y1: y + 3 });
    }
  const region = box ?? { x0: ax - 1, y0: a.apex_y_mm, x1: ax + 1, y1: a.apex_y_mm + 2 };
  return {
    box: region,
    draw(raster, layers) {
      const pb = raster.pixelBox(region);
      for (let py = pb.y0; py < pb.y1; py++) {
        for (let px = pb.x0; px < pb.x1; px++) {
          const i = py * raster.size + px;
          const g = gapAt(a, c, raster.xs[i], raster.ys[i]);
          if (g.gap === 0 && g.line === 0) continue;
          // Pleural air: more lucent than lung and without vessels; the visceral pleura is a thin white line.
          layers.air[i] = Math.min(0.9, layers.air[i] + 0.22 * g.gap * layers.lung[i]);
          layers.airless[i] *= 1 - g.gap;
          layers.gate[i] *= 1 - g.gap;
          layers.dense[i] += 0.045 * g.line;
        }
      }
    },
  };
}
