/** Where a finding is drawn, in pixels, for tests and image-counterfactual pairs. */
import type { FindingKey, PhantomCase } from '../types.ts';
import { defaultPhantomConfig, type PhantomConfig } from './config.ts';
import { findingOf, planFor } from './findings.ts';
import { blurRadiusPx, type PixelBox } from './raster.ts';
import { rasterFor } from './render.ts';
import { sampleAttributes } from './sample.ts';

/**
 * Pixel box (x1, y1 exclusive) that holds every pixel the finding can change at this size, blur
 * included. For an absent finding it is the box the finding would occupy if added by editCase.
 */
export function findingRegion(
  c: PhantomCase,
  finding: FindingKey,
  size: number,
  config: PhantomConfig = defaultPhantomConfig,
): PixelBox {
  const raster = rasterFor(c, size);
  let f = findingOf(c, finding);
  if (!f?.present) {
    const others = new Set(c.findings.filter((g) => g.present).map((g) => g.name));
    f = sampleAttributes(finding, c.seed, config, others);
  }
  const margin = blurRadiusPx(c.anatomy.blur_mm, raster.spacing) + 2;
  const box = raster.pixelBox(planFor(c, f).box);
  return {
    x0: Math.max(0, box.x0 - margin),
    y0: Math.max(0, box.y0 - margin),
    x1: Math.min(size, box.x1 + margin),
    y1: Math.min(size, box.y1 + margin),
  };
}
