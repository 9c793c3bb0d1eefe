/**
 * Facts about a case that the generators need: is it a phantom, what a finding looks like, and
 * counterfactual copies of the case (one finding changed) that a wrong answer describes.
 */
import {
  applyHeart,
  defaultPhantomConfig,
  type PhantomConfig,
  SIZE_BANDS_MM,
  sampleAttributes,
} from '../../data/phantom/index.ts';
import type { Rng } from '../../data/random.ts';
import type {
  Finding,
  FindingKey,
  LabelledCase,
  PhantomCase,
  Severity,
  Side,
  TipPosition,
  Zone,
} from '../../data/types.ts';

export const SEVERITY_STEPS: readonly Severity[] = ['mild', 'moderate', 'severe'];
const ZONE_STEPS: readonly Zone[] = ['upper', 'middle', 'lower'];
const TIPS: readonly TipPosition[] = ['appropriate', 'too_low', 'too_high'];

/** Synth case rows carry the seed and anatomy, so they can be re-rendered and edited. */
export function isPhantom(c: LabelledCase): c is PhantomCase {
  const p = c as Partial<PhantomCase>;
  return typeof p.seed === 'number' && p.anatomy !== undefined && typeof p.anatomy === 'object';
}

export function findingOf(c: LabelledCase, key: FindingKey): Finding | undefined {
  return c.findings.find((f) => f.name === key);
}

export function presentFindings(c: LabelledCase): Finding[] {
  return c.findings.filter((f) => f.present);
}

/**
 * The case with `next` in place of its finding of the same name (appended when unknown). A phantom's
 * heart is re-fitted to a changed cardiomegaly, so the claimed ratio is the one editCase would draw.
 */
export function withFinding(c: LabelledCase, next: Finding): LabelledCase {
  const known = c.findings.some((f) => f.name === next.name);
  const findings = known ? c.findings.map((f) => (f.name === next.name ? next : f)) : [...c.findings, next];
  if (next.name === 'cardiomegaly' && isPhantom(c)) {
    const anatomy = { ...c.anatomy };
    const edited: PhantomCase = { ...c, findings, anatomy, ctr: applyHeart(anatomy, next) };
    return edited;
  }
  return { ...c, findings };
}

export function withFindings(c: LabelledCase, changes: readonly Finding[]): LabelledCase {
  return changes.reduce(withFinding, c);
}

/**
 * How an absent finding would look if it were present: a phantom's own attribute stream (what
 * editCase 'add' draws), else the bare finding (imported cases carry no attributes either).
 */
export function plausiblePresent(
  c: LabelledCase,
  key: FindingKey,
  config: PhantomConfig = defaultPhantomConfig,
): Finding {
  if (!isPhantom(c)) return { name: key, present: true };
  const others = new Set(presentFindings(c).map((f) => f.name));
  return sampleAttributes(key, c.seed, config, others);
}

/** Another finding shown with the attributes of `f` (a confusion: same place, other name). */
export function renamed(f: Finding, key: FindingKey): Finding {
  return { ...f, name: key };
}

export function swappedSide(side: Side, rng: Rng): Side {
  if (side === 'bilateral') return rng.pick(['left', 'right'] as const);
  return side === 'left' ? 'right' : 'left';
}

/** One step up or down the three-level scale. */
export function severityStep(severity: Severity, rng: Rng): Severity {
  if (severity === 'mild') return 'moderate';
  if (severity === 'severe') return 'moderate';
  return rng.pick(['mild', 'severe'] as const);
}

/** One zone up or down. */
export function zoneStep(zone: Zone, rng: Rng): Zone {
  if (zone === 'upper') return 'middle';
  if (zone === 'lower') return 'middle';
  return rng.pick(['upper', 'lower'] as const);
}

export function otherTip(tip: TipPosition, rng: Rng): TipPosition {
  return rng.pick(TIPS.filter((t) => t !== tip));
}

/** Severity band of a nodule/mass size (bands of SIZE_BANDS_MM). */
export function sizeBand(key: 'nodule' | 'mass', sizeMm: number): Severity {
  const bands = SIZE_BANDS_MM[key];
  return SEVERITY_STEPS.find((s) => sizeMm <= bands[s][1]) ?? 'severe';
}

/** The middle of the adjacent size band: far enough from the truth to be out of tolerance. */
export function sizeStep(key: 'nodule' | 'mass', sizeMm: number, rng: Rng): number {
  const band = severityStep(sizeBand(key, sizeMm), rng);
  const [lo, hi] = SIZE_BANDS_MM[key][band];
  return Math.round((lo + hi) / 2);
}

export { ZONE_STEPS };
