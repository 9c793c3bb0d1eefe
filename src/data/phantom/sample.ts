/**
 * Case sampling. Presence comes from the seed's 'findings' stream (SAMPLING_ORDER, see config.ts);
 * each finding's attributes come from its own 'attr:<key>' stream, so adding a finding later by
 * counterfactual edit gives it the attributes it would have had.
 */
import { Rng } from '../random.ts';
import {
  FINDING_KEYS,
  type Finding,
  type FindingKey,
  type PhantomCase,
  type Severity,
  type Side,
  type TipPosition,
  type View,
  type Zone,
} from '../types.ts';
import { applyHeart, sampleAnatomy } from './anatomy.ts';
import {
  conditionalProbability,
  defaultPhantomConfig,
  type PhantomConfig,
  SAMPLING_ORDER,
  validateConfig,
} from './config.ts';
import { ZONES } from './geometry.ts';

const SEVERITIES: readonly Severity[] = ['mild', 'moderate', 'severe'];
const TIPS: readonly TipPosition[] = ['appropriate', 'too_low', 'too_high'];

/** Zone weights (upper, middle, lower) per finding: consolidation and atelectasis favour the bases. */
const ZONE_WEIGHTS: Partial<Record<FindingKey, readonly number[]>> = {
  consolidation: [0.2, 0.3, 0.5],
  lung_opacity: [0.2, 0.35, 0.45],
  atelectasis: [0.1, 0.3, 0.6],
  nodule: [0.4, 0.3, 0.3],
  mass: [0.4, 0.35, 0.25],
  rib_fracture: [0.3, 0.4, 0.3],
};

/** Size bands in mm; nodules below 10 mm are the subtle ones. */
export const SIZE_BANDS_MM: Record<'nodule' | 'mass', Record<Severity, readonly [number, number]>> = {
  nodule: { mild: [5, 9], moderate: [10, 19], severe: [20, 29] },
  mass: { mild: [30, 44], moderate: [45, 59], severe: [60, 70] },
};

export function caseId(seed: number): string {
  return `cxr-${seed >>> 0}`;
}

/** Pseudonymous patient id; one patient per seed. */
export function patientId(seed: number): string {
  return `P${(seed >>> 0).toString(16).padStart(8, '0')}`;
}

function pickSeverity(r: Rng, config: PhantomConfig): Severity {
  if (r.bool(config.subtleShare)) return 'mild';
  return SEVERITIES[r.weighted(SEVERITIES.map((s) => config.severityWeights[s]))];
}

/** Size in mm inside a severity band (integer, inclusive). */
export function sizeInBand(finding: 'nodule' | 'mass', severity: Severity, u: number): number {
  const [lo, hi] = SIZE_BANDS_MM[finding][severity];
  return lo + Math.min(hi - lo, Math.floor(u * (hi - lo + 1)));
}

/** Attributes of a present finding, drawn from its own stream; `others` are the case's other findings. */
export function sampleAttributes(
  key: FindingKey,
  seed: number,
  config: PhantomConfig,
  others: ReadonlySet<FindingKey>,
): Finding {
  const r = Rng.derive(seed, `attr:${key}`);
  const f: Finding = { name: key, present: true };
  const lateral = (): Side => (r.bool(0.5) ? 'left' : 'right');
  const zone = (): Zone => ZONES[r.weighted(ZONE_WEIGHTS[key] ?? [1, 1, 1])];
  switch (key) {
    case 'cardiomegaly':
    case 'edema':
      f.severity = pickSeverity(r, config);
      if (key === 'edema') f.side = 'bilateral';
      break;
    case 'pleural_effusion': {
      let bilateral = config.bilateralEffusionShare;
      if (others.has('cardiomegaly')) bilateral = Math.max(bilateral, 0.5);
      if (others.has('edema')) bilateral = Math.max(bilateral, 0.8);
      f.side = r.bool(bilateral) ? 'bilateral' : lateral();
      f.severity = pickSeverity(r, config);
      break;
    }
    case 'pneumothorax':
      f.side = lateral();
      f.zone = 'upper';
      f.severity = pickSeverity(r, config);
      break;
    case 'consolidation':
    case 'lung_opacity':
      f.side = lateral();
      f.zone = zone();
      f.severity = pickSeverity(r, config);
      break;
    case 'nodule':
    case 'mass': {
      f.side = lateral();
      f.zone = zone();
      const band = pickSeverity(r, config);
      f.size_mm = sizeInBand(key, band, r.next());
      break;
    }
    case 'atelectasis':
    case 'rib_fracture':
      f.side = lateral();
      f.zone = zone();
      break;
    case 'endotracheal_tube':
      f.tip = TIPS[r.weighted(TIPS.map((t) => config.tipWeights[t]))];
      break;
    case 'central_line':
      f.side = r.bool(0.65) ? 'right' : 'left';
      f.tip = TIPS[r.weighted(TIPS.map((t) => config.tipWeights[t]))];
      break;
  }
  return f;
}

/** True for the deliberately hard presentations: mild severity or a nodule under 10 mm. */
export function isSubtle(f: Finding): boolean {
  if (!f.present) return false;
  if (f.name === 'nodule') return (f.size_mm ?? 99) < 10;
  return f.severity === 'mild';
}

/** One phantom case: the patient, the view and an exact label for every finding key. */
export function sampleCase(seed: number, config: PhantomConfig = defaultPhantomConfig): PhantomCase {
  validateConfig(config);
  const presence = Rng.derive(seed, 'findings');
  const present = new Set<FindingKey>();
  for (const key of SAMPLING_ORDER)
    if (presence.bool(conditionalProbability(config, key, present))) present.add(key);
  const findings = FINDING_KEYS.map(
    (key): Finding =>
      present.has(key) ? sampleAttributes(key, seed, config, present) : { name: key, present: false },
  );
  const view: View = Rng.derive(seed, 'view').bool(config.apShare) ? 'AP' : 'PA';
  const anatomy = sampleAnatomy(seed, view);
  const ctr = applyHeart(
    anatomy,
    findings.find((f) => f.name === 'cardiomegaly'),
  );
  return { id: caseId(seed), seed, patient_id: patientId(seed), view, findings, ctr, anatomy };
}
