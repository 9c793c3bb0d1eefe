/**
 * A finding's drawing plan: where it is (a patient-space box, used by findingRegion) and how it
 * changes the attenuation layers. Plans read only the case (attributes, anatomy, seed-derived shape
 * streams), so a finding draws the same whatever else is present.
 */
import type { Finding, Side } from '../types.ts';
import type { Anatomy, BoxMm, SideSign } from './geometry.ts';
import type { Raster } from './raster.ts';
import type { Layers } from './render-anatomy.ts';

export interface FindingPlan {
  box: BoxMm;
  draw(raster: Raster, layers: Layers): void;
}

export interface PlanContext {
  a: Anatomy;
  seed: number;
  finding: Finding;
}

export function sideSigns(side: Side | undefined): SideSign[] {
  if (side === 'bilateral') return [-1, 1];
  return [side === 'left' ? 1 : -1];
}

/** Pick from a severity-indexed table of ranges with a uniform draw u. */
export function bySeverity(
  f: Finding,
  table: Record<'mild' | 'moderate' | 'severe', readonly [number, number]>,
  u: number,
): number {
  const [lo, hi] = table[f.severity ?? 'moderate'];
  return lo + (hi - lo) * u;
}
