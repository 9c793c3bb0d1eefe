/**
 * Patient sampling: one patient per seed, drawn from the seed's own 'anatomy' stream so that the same
 * patient appears whatever findings the case has. Only the heart size depends on a finding
 * (cardiomegaly), and it is recomputed from a stored uniform draw, `heart_u`, so an edit that adds or
 * removes cardiomegaly keeps the patient's place within the normal or enlarged range.
 */
import { Rng } from '../random.ts';
import type { Finding, Severity, View } from '../types.ts';
import type { Anatomy } from './geometry.ts';

/** PA-equivalent cardiothoracic ratio ranges: normal hearts, then each cardiomegaly severity. */
export const CTR_RANGES: Record<'normal' | Severity, readonly [number, number]> = {
  normal: [0.38, 0.49],
  mild: [0.51, 0.56],
  moderate: [0.56, 0.62],
  severe: [0.62, 0.7],
};

/** Sample the patient's body, exposure and acquisition parameters. Lengths in mm. */
export function sampleAnatomy(seed: number, view: View): Anatomy {
  const r = Rng.derive(seed, 'anatomy');
  const habitus = r.next();
  const thoraxWidth = r.uniform(275, 345) + 15 * (habitus - 0.5);
  const apex = r.uniform(48, 72);
  const lungHeightRight = r.uniform(205, 265);
  const domeRight = apex + lungHeightRight;
  const domeLeft = domeRight + r.uniform(6, 22);
  const ribCount = 10;
  return {
    habitus,
    soft_tissue_mm: 10 + 38 * habitus,
    thorax_width_mm: thoraxWidth,
    apex_y_mm: apex,
    lung_height_right_mm: lungHeightRight,
    lung_height_left_mm: domeLeft - apex,
    dome_right_y_mm: domeRight,
    dome_left_y_mm: domeLeft,
    cpa_depth_mm: r.uniform(18, 32),
    mediastinum_width_mm: r.uniform(48, 72),
    aortic_knob_y_mm: apex + r.uniform(48, 62),
    carina_y_mm: apex + r.uniform(68, 88),
    trachea_width_mm: r.uniform(15, 20),
    heart_u: r.next(),
    heart_right_share: r.uniform(0.28, 0.36),
    /** AP projection magnifies the anterior heart relative to the posterior chest wall. */
    heart_magnification: view === 'AP' ? r.uniform(1.1, 1.15) : 1,
    rib_count: ribCount,
    rib_spacing_mm: (lungHeightRight + 10) / ribCount,
    rib_thickness_mm: r.uniform(8, 11),
    gastric_bubble: r.bool(0.7) ? 1 : 0,
    rotation_deg: r.uniform(-3, 3),
    shift_mm: r.uniform(-10, 10),
    exposure: r.uniform(0.85, 1.15),
    contrast: r.uniform(0.85, 1.2),
    noise_sd: r.uniform(0.006, 0.02),
    blur_mm: r.uniform(0.5, 1.4),
    ctr_pa: 0,
    heart_width_mm: 0,
  };
}

/** Set the heart size from cardiomegaly (present with a severity, or absent); returns the drawn CTR. */
export function applyHeart(a: Anatomy, cardiomegaly: Finding | undefined): number {
  const key = cardiomegaly?.present ? (cardiomegaly.severity ?? 'moderate') : 'normal';
  const [lo, hi] = CTR_RANGES[key];
  a.ctr_pa = lo + (hi - lo) * a.heart_u;
  a.heart_width_mm = a.ctr_pa * a.heart_magnification * a.thorax_width_mm;
  return a.heart_width_mm / a.thorax_width_mm;
}
