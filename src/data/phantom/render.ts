/**
 * Rendering a case to a 12-bit MONOCHROME2 image (bright = dense).
 *
 * Pipeline: anatomy layers → findings modify layers → attenuation
 *   att = tissue·(1 − air·(1 − airless)) + bone + dense + vessel·lung·(1 − airless)·gate
 * → film response v = (1 − e^(−g·att)) / (1 − e^(−g·1.5)), v^exposure → unsharpness (Gaussian blur)
 * → quantum-like noise (∝ √v, from the seed's 'noise' stream) → 12 bits.
 * No step depends on global image statistics, so a finding changes only pixels near where it is drawn.
 */
import { Rng } from '../random.ts';
import type { GrayImage, PhantomCase } from '../types.ts';
import { PhantomError } from './errors.ts';
import { DRAW_ORDER, findingOf, planFor } from './findings.ts';
import { ribBreakOf } from './findings-devices.ts';
import { EDEMA_UPPER_VESSEL_GAIN } from './findings-lung.ts';
import { gaussianBlur, Raster } from './raster.ts';
import { drawBodyAndBones, drawVessels, newLayers, vesselTree } from './render-anatomy.ts';

export const BITS_STORED = 12;
const MAX_VALUE = 2 ** BITS_STORED - 1;

export interface RenderOptions {
  /** Image side in pixels (square). */
  size: number;
}

export function rasterFor(c: PhantomCase, size: number): Raster {
  if (!Number.isInteger(size) || size < 16 || size > 4096)
    throw new PhantomError('RENDER_SIZE', `size must be an integer in [16, 4096], got ${size}`);
  return new Raster(size, c.anatomy.rotation_deg, c.anatomy.shift_mm);
}

export function renderCase(c: PhantomCase, options: RenderOptions): GrayImage {
  const a = c.anatomy;
  const raster = rasterFor(c, options.size);
  const { n, size } = raster;
  const layers = newLayers(n);
  const fracture = findingOf(c, 'rib_fracture');
  const ribBreak = fracture?.present ? ribBreakOf({ a, seed: c.seed, finding: fracture }) : undefined;
  drawBodyAndBones(a, raster, layers, ribBreak);
  const edema = findingOf(c, 'edema');
  const upperGain = edema?.present ? EDEMA_UPPER_VESSEL_GAIN[edema.severity ?? 'moderate'] : 1;
  drawVessels(a, raster, layers, vesselTree(a, c.seed), upperGain);
  for (const key of DRAW_ORDER) {
    const f = findingOf(c, key);
    if (f?.present) planFor(c, f).draw(raster, layers);
  }

  const g = 1.2 * a.contrast;
  const norm = 1 / (1 - Math.exp(-g * 1.5));
  const img = new Float32Array(n);
  const { tissue, air, airless, lung, bone, dense, vessel, gate } = layers;
  for (let i = 0; i < n; i++) {
    const clear = 1 - airless[i];
    const att = tissue[i] * (1 - air[i] * clear) + bone[i] + dense[i] + vessel[i] * lung[i] * clear * gate[i];
    const v = att > 0 ? (1 - Math.exp(-g * att)) * norm : 0;
    img[i] = v < 1 ? v ** a.exposure : 1;
  }
  gaussianBlur(img, size, a.blur_mm / raster.spacing);

  const noise = Rng.derive(c.seed, 'noise');
  const data = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const v = img[i];
    const p = 0.03 + 0.94 * v + a.noise_sd * (0.4 + Math.sqrt(Math.max(0, v))) * noise.normal();
    data[i] = Math.round(Math.min(1, Math.max(0, p)) * MAX_VALUE);
  }
  return { width: size, height: size, bitsStored: BITS_STORED, data };
}
