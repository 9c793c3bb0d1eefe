/**
 * The input gate: what the decoded image must be before the model sees it, and what makes an answer
 * about it less trustworthy. Runs in the preprocessing thread right after decoding.
 *
 * Refused (422, ImageError with a stable code):
 *  - NOT_A_RADIOGRAPH: a DICOM Modality outside the configured projection-radiograph list (CR, DX);
 *  - NOT_A_CHEST_IMAGE: a DICOM BodyPartExamined that is present and not the chest;
 *  - IMAGE_TOO_SMALL: the shortest side under the configured minimum (a thumbnail).
 * Missing tags are not an error (PNG and JPEG carry none; many DICOM exports drop them).
 *
 * Answered with a warning (each one raises the risk, see `warningRisk`):
 *  - LATERAL_VIEW: ViewPosition LL, RL, LAT or LATERAL (the model reads frontal films);
 *  - COLOR_CONTENT: mean channel spread above the tolerance (a photo, an annotated screenshot);
 *  - NEARLY_UNIFORM: intensity standard deviation under the floor (blank, saturated or a test card);
 *  - INVERTED_LOOKING: the central band (mediastinum, spine) darker than the lung fields beside it,
 *    as on a negative (a MONOCHROME1 read as MONOCHROME2, an inverted export).
 */
import type { DecodedImage } from './decoded-image.ts';
import { ImageError } from './errors.ts';

export const INPUT_WARNING_CODES = [
  'LATERAL_VIEW',
  'COLOR_CONTENT',
  'NEARLY_UNIFORM',
  'INVERTED_LOOKING',
] as const;
export type InputWarning = (typeof INPUT_WARNING_CODES)[number];

export interface InputGateConfig {
  /** DICOM Modality values accepted (upper case). */
  modalities: readonly string[];
  /** Shortest accepted side, in pixels. */
  minSide: number;
  /** Mean channel spread (0–1) above which COLOR_CONTENT is raised. */
  maxChroma: number;
  /** Intensity standard deviation (0–1) below which NEARLY_UNIFORM is raised. */
  minStd: number;
  /** Central band minus lung fields (mean intensity) below which INVERTED_LOOKING is raised. */
  minCentralContrast: number;
}

/**
 * Defaults. 256 px: every real film in ../shared/fixtures/real is ≥ 440 px a side, and so is any
 * clinical CR/DX export; 32–128 px thumbnails are refused. The statistics thresholds are from the
 * real films and phantoms (docs/serving.md, "Input gate"): films' standard deviation is ≥ 0.14 and
 * their central band is 0.08–0.44 brighter than the lungs; inverted, 0.08–0.44 darker.
 */
export const DEFAULT_INPUT_GATE: Readonly<InputGateConfig> = Object.freeze({
  modalities: Object.freeze(['CR', 'DX']),
  minSide: 256,
  maxChroma: 0.05,
  minStd: 0.03,
  minCentralContrast: -0.03,
});

/** Terms of BodyPartExamined that mean the chest (English, German/Dutch, Spanish/Portuguese). */
const CHEST_PATTERN = /CHEST|THORA|TORAX|TORACE|LUNG|RIB/;
const LATERAL_VIEWS = new Set(['LL', 'RL', 'LAT', 'LATERAL']);

/**
 * What a warning multiplies the probability that the answer is right by: risk' = 1 − (1 − risk) ·
 * Π (1 − bump). 0.6 makes one warning alone lift any answer above the default flag threshold (0.5).
 */
export const WARNING_RISK_BUMP: Readonly<Record<InputWarning, number>> = Object.freeze({
  LATERAL_VIEW: 0.6,
  COLOR_CONTENT: 0.6,
  NEARLY_UNIFORM: 0.6,
  INVERTED_LOOKING: 0.6,
});

/** The risk after the warnings: each one an independent chance that the answer is wrong. */
export function warningRisk(risk: number, warnings: readonly InputWarning[]): number {
  if (warnings.length === 0) return risk;
  let right = 1 - risk;
  for (const w of warnings) right *= 1 - WARNING_RISK_BUMP[w];
  return 1 - right;
}

/** The facts of the decoded image an answer reports (PHI-free: coded values and sizes only). */
export interface ImageInfo {
  format: DecodedImage['format'];
  width: number;
  height: number;
  bits_stored: number | null;
  photometric: string | null;
  modality: string | null;
  view: string | null;
  body_part: string | null;
  transfer_syntax: string | null;
  /** 1-based frame decoded, of `frames`. */
  frame: number;
  frames: number;
}

export function imageInfo(image: DecodedImage): ImageInfo {
  const m = image.meta;
  return {
    format: image.format,
    width: m.sourceWidth ?? image.width,
    height: m.sourceHeight ?? image.height,
    bits_stored: m.bitsStored ?? null,
    photometric: m.photometric ?? null,
    modality: m.modality ?? null,
    view: m.viewPosition ?? m.view ?? null,
    body_part: m.bodyPart ?? null,
    transfer_syntax: m.transferSyntax ?? null,
    frame: m.frame ?? 1,
    frames: m.frames ?? 1,
  };
}

/** Throws the refusal codes; returns the warnings (in INPUT_WARNING_CODES order). */
export function checkInput(image: DecodedImage, config: InputGateConfig): InputWarning[] {
  const { modality, bodyPart, viewPosition } = image.meta;
  if (modality !== undefined && !config.modalities.includes(modality)) {
    throw new ImageError(
      'NOT_A_RADIOGRAPH',
      `DICOM Modality is ${modality}; this model reads projection radiographs (${config.modalities.join(', ')}). ` +
        'Send the chest radiograph itself, not a CT, MR, ultrasound, nuclear medicine or secondary-capture object',
    );
  }
  if (bodyPart !== undefined && !CHEST_PATTERN.test(bodyPart)) {
    throw new ImageError(
      'NOT_A_CHEST_IMAGE',
      `DICOM BodyPartExamined is ${bodyPart}; this model reads chest radiographs only. Send a chest film ` +
        '(BodyPartExamined CHEST, or the tag left out)',
    );
  }
  const width = image.meta.sourceWidth ?? image.width;
  const height = image.meta.sourceHeight ?? image.height;
  if (Math.min(width, height) < config.minSide) {
    throw new ImageError(
      'IMAGE_TOO_SMALL',
      `image is ${width}×${height} px; the shortest side must be at least ${config.minSide} px ` +
        '(send the original film or a downsample of at least that size, not a thumbnail)',
    );
  }
  const warnings: InputWarning[] = [];
  if (viewPosition !== undefined && LATERAL_VIEWS.has(viewPosition)) warnings.push('LATERAL_VIEW');
  if ((image.meta.chroma ?? 0) > config.maxChroma) warnings.push('COLOR_CONTENT');
  const stats = intensityStats(image);
  if (stats.std < config.minStd) warnings.push('NEARLY_UNIFORM');
  else if (stats.centralContrast < config.minCentralContrast) warnings.push('INVERTED_LOOKING');
  return warnings;
}

/**
 * Standard deviation of the intensities, and the mean of the central vertical band (45–55 % of the
 * width) minus that of the lung bands (20–35 % and 65–80 %), rows 25–75 %. Sampled on a grid of at
 * most ~256 × 256 points, so it costs the same on any film size.
 */
export function intensityStats(image: Pick<DecodedImage, 'width' | 'height' | 'pixels'>): {
  std: number;
  centralContrast: number;
} {
  const { width: w, height: h, pixels } = image;
  const sx = Math.max(1, Math.floor(w / 256));
  const sy = Math.max(1, Math.floor(h / 256));
  let sum = 0;
  let sum2 = 0;
  let n = 0;
  for (let y = 0; y < h; y += sy) {
    for (let x = 0; x < w; x += sx) {
      const v = pixels[y * w + x];
      sum += v;
      sum2 += v * v;
      n++;
    }
  }
  const mean = sum / n;
  const band = (x0: number, x1: number): number => {
    let s = 0;
    let c = 0;
    for (let y = Math.floor(h * 0.25); y < Math.ceil(h * 0.75); y += sy) {
      for (let x = Math.floor(w * x0); x < Math.ceil(w * x1); x += sx) {
        s += pixels[y * w + x];
        c++;
      }
    }
    return c > 0 ? s / c : mean;
  };
  const centre = band(0.45, 0.55);
  const lungs = (band(0.2, 0.35) + band(0.65, 0.8)) / 2;
  return { std: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), centralContrast: centre - lungs };
}
