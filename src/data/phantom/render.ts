/**
 * Rendering a case to a 12-bit MONOCHROME2 image (bright = dense).
 *
 * Pipeline: anatomy layers → findings modify layers → attenuation
 *   att = tissue·(1 − air·(1 − airless)) + bone + dense + vessel·lung·(1 − airless)·gate
 * → film response (responseTable) → unsharpness (Gaussian blur)
 * → quantum-like noise (∝ √v, from the seed's 'noise' stream) → 12 bits.
 * No step depends on global image statistics, so a finding changes only pixels near where it is drawn.
 */
import { Rng } from '../random.ts';
import type { GrayImage, PhantomCase } from '../types.ts';
import { PhantomError } from './errors.ts';
import { DRAW_ORDER, findingOf, planFor } from './findings.ts';
import { ribBreakOf } from './findings-devices.ts';
import { EDEMA_UPPER_VESSEL_GAIN } from './findings-lung.ts';
import { gaussianBlur, Raster, scratch } from './raster.ts';
import { drawBodyAndBones, drawVessels, type Layers, newLayers, vesselTree } from './render-anatomy.ts';

export const BITS_STORED = 12;
const MAX_VALUE = 2 ** BITS_STORED - 1;

const RESPONSE_STEPS = 2048;
const RESPONSE_MAX_ATT = 4;

/** Film response v(att) = ((1 − e^(−g·att)) / (1 − e^(−g·1.5)))^exposure with g = 1.2·contrast, tabulated. */
function responseTable(contrast: number, exposure: number): Float64Array {
  const g = 1.2 * contrast;
  const norm = 1 / (1 - Math.exp(-g * 1.5));
  return Float64Array.from({ length: RESPONSE_STEPS + 1 }, (_, k) => {
    const v = (1 - Math.exp((-g * k * RESPONSE_MAX_ATT) / RESPONSE_STEPS)) * norm;
    return v < 1 ? v ** exposure : 1;
  });
}

const NORMAL_TABLE_SIZE = 1 << 16;
let normalTable: Float32Array | undefined;

/** A fixed table of standard normal draws, indexed by the case's noise stream (one draw per pixel). */
function standardNormals(): Float32Array {
  if (!normalTable) {
    const r = new Rng(0x5eed);
    normalTable = Float32Array.from({ length: NORMAL_TABLE_SIZE }, () => r.normal());
  }
  return normalTable;
}

/** Attenuation of every pixel through the tabulated film response. */
function filmResponse(layers: Layers, response: Float64Array, img: Float32Array): void {
  const { tissue, air, airless, lung, bone, dense, vessel, gate } = layers;
  const scale = RESPONSE_STEPS / RESPONSE_MAX_ATT;
  const last = RESPONSE_STEPS - 0.001;
  for (let i = 0; i < img.length; i++) {
    const clear = 1 - airless[i];
    const att = tissue[i] * (1 - air[i] * clear) + bone[i] + dense[i] + vessel[i] * lung[i] * clear * gate[i];
    const f = att <= 0 ? 0 : Math.min(att * scale, last);
    const k = f | 0;
    img[i] = response[k] + (response[k + 1] - response[k]) * (f - k);
  }
}

/** Quantum-like noise ∝ √signal from the seed's own stream (identical whatever the findings), then 12 bits. */
function addNoiseAndQuantize(img: Float32Array, noise: Rng, sd: number, out: Uint16Array): void {
  const normals = standardNormals();
  const mask = NORMAL_TABLE_SIZE - 1;
  for (let i = 0; i < img.length; i++) {
    const v = Math.max(img[i], 0);
    const p = 0.03 + 0.94 * v + sd * (0.4 + Math.sqrt(v)) * normals[noise.nextUint32() & mask];
    out[i] = p <= 0 ? 0 : p >= 1 ? MAX_VALUE : (p * MAX_VALUE + 0.5) | 0;
  }
}

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

  const img = scratch('image', n);
  filmResponse(layers, responseTable(a.contrast, a.exposure), img);
  gaussianBlur(img, size, a.blur_mm / raster.spacing);
  const data = new Uint16Array(n);
  addNoiseAndQuantize(img, Rng.derive(c.seed, 'noise'), a.noise_sd, data);
  return { width: size, height: size, bitsStored: BITS_STORED, data };
}
