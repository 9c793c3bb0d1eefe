/** Dispatch from a finding to its drawing plan, in the order findings are drawn. */
import type { Finding, FindingKey, PhantomCase } from '../types.ts';
import { centralLinePlan, endotrachealTubePlan, ribFracturePlan } from './findings-devices.ts';
import {
  atelectasisPlan,
  consolidationPlan,
  edemaPlan,
  lungOpacityPlan,
  massPlan,
  nodulePlan,
} from './findings-lung.ts';
import { effusionPlan, pneumothoraxPlan } from './findings-pleura.ts';
import { costophrenicY, heartShape } from './geometry.ts';
import type { FindingPlan, PlanContext } from './plan.ts';

/**
 * The heart is anatomy; cardiomegaly's region is the heart plus the 6 mm of lung beside it whose
 * thickness profile follows the heart border (render-anatomy.ts, air ramp).
 */
function cardiomegalyPlan({ a }: PlanContext): FindingPlan {
  const h = heartShape(a);
  return {
    box: {
      x0: -h.right - 8,
      y0: Math.min(h.rightTop, h.leftTop) - 3,
      x1: h.left + 8,
      y1: Math.max(costophrenicY(a, 1), costophrenicY(a, -1)) + 3,
    },
    draw() {},
  };
}

const PLANNERS: Record<FindingKey, (ctx: PlanContext) => FindingPlan> = {
  cardiomegaly: cardiomegalyPlan,
  pleural_effusion: effusionPlan,
  pneumothorax: pneumothoraxPlan,
  consolidation: consolidationPlan,
  lung_opacity: lungOpacityPlan,
  nodule: nodulePlan,
  mass: massPlan,
  atelectasis: atelectasisPlan,
  edema: edemaPlan,
  endotracheal_tube: endotrachealTubePlan,
  central_line: centralLinePlan,
  rib_fracture: ribFracturePlan,
};

/** Airspace disease first, fluid over it, lesions and devices on top; the pneumothorax clears its gap last. */
export const DRAW_ORDER: readonly FindingKey[] = [
  'consolidation',
  'lung_opacity',
  'edema',
  'atelectasis',
  'pleural_effusion',
  'nodule',
  'mass',
  'rib_fracture',
  'cardiomegaly',
  'endotracheal_tube',
  'central_line',
  'pneumothorax',
];

export function findingOf(c: PhantomCase, key: FindingKey): Finding | undefined {
  return c.findings.find((f) => f.name === key);
}

export function planFor(c: PhantomCase, finding: Finding): FindingPlan {
  return PLANNERS[finding.name]({ a: c.anatomy, seed: c.seed, finding });
}
