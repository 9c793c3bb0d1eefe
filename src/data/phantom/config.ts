/**
 * Label statistics of the phantom population.
 *
 * Sampling model (kept simple so its marginals can be computed exactly):
 *   findings are drawn one by one in SAMPLING_ORDER; finding f is present with probability
 *     p(f) = min(MAX_PROBABILITY, prevalence[f] · Π factor(g → f) over boosts whose `given` g is present).
 *   Every boost's `given` comes before its `boosted` in the order, so the model is a small Bayesian network
 *   whose roots are the drivers (cardiomegaly, edema, consolidation, endotracheal tube).
 * Attributes (side, zone, severity, size, tip) are drawn afterwards; see sample.ts.
 */
import { FINDING_KEYS, type FindingKey, type Severity, type TipPosition } from '../types.ts';
import { PhantomError } from './errors.ts';

export interface CooccurrenceBoost {
  /** A finding drawn earlier in SAMPLING_ORDER. */
  given: FindingKey;
  /** The finding whose probability is multiplied when `given` is present. */
  boosted: FindingKey;
  factor: number;
}

export interface PhantomConfig {
  /** Probability of each finding when no boosting driver is present (the base rate). */
  prevalence: Record<FindingKey, number>;
  /** Conditional boosts, e.g. cardiomegaly → effusion ×2. */
  boosts: CooccurrenceBoost[];
  /** Share of present findings forced to their subtle form (small effusion, small apical PTX, faint small nodule). */
  subtleShare: number;
  /** Weights of mild/moderate/severe for findings with a severity, when not forced subtle. */
  severityWeights: Record<Severity, number>;
  /** Weights of the tube/line tip positions. */
  tipWeights: Record<TipPosition, number>;
  /** Share of AP (portable) views; the rest are PA. */
  apShare: number;
  /** Share of pleural effusions that are bilateral, before the edema/cardiomegaly adjustment. */
  bilateralEffusionShare: number;
}

/** Findings are drawn in this order; drivers come first. */
export const SAMPLING_ORDER: readonly FindingKey[] = [
  'cardiomegaly',
  'endotracheal_tube',
  'edema',
  'consolidation',
  'pleural_effusion',
  'central_line',
  'lung_opacity',
  'atelectasis',
  'nodule',
  'mass',
  'pneumothorax',
  'rib_fracture',
];

export const MAX_PROBABILITY = 0.95;

/** Long-tailed defaults loosely following MIMIC-CXR label frequencies. */
export const defaultPhantomConfig: PhantomConfig = {
  prevalence: {
    cardiomegaly: 0.2,
    endotracheal_tube: 0.14,
    edema: 0.07,
    consolidation: 0.06,
    pleural_effusion: 0.13,
    central_line: 0.16,
    lung_opacity: 0.18,
    atelectasis: 0.17,
    nodule: 0.05,
    mass: 0.025,
    pneumothorax: 0.035,
    rib_fracture: 0.025,
  },
  boosts: [
    { given: 'cardiomegaly', boosted: 'edema', factor: 3 },
    { given: 'cardiomegaly', boosted: 'pleural_effusion', factor: 2 },
    { given: 'edema', boosted: 'pleural_effusion', factor: 2.5 },
    { given: 'consolidation', boosted: 'pleural_effusion', factor: 1.8 },
    { given: 'endotracheal_tube', boosted: 'central_line', factor: 3 },
    { given: 'consolidation', boosted: 'atelectasis', factor: 1.5 },
  ],
  subtleShare: 0.25,
  severityWeights: { mild: 0.45, moderate: 0.35, severe: 0.2 },
  tipWeights: { appropriate: 0.7, too_low: 0.15, too_high: 0.15 },
  apShare: 0.35,
  bilateralEffusionShare: 0.3,
};

/** Throws a coded error when a boost points backwards in SAMPLING_ORDER or a probability is out of range. */
export function validateConfig(config: PhantomConfig): void {
  for (const key of FINDING_KEYS) {
    const p = config.prevalence[key];
    if (!(p >= 0 && p <= 1)) throw new PhantomError('CONFIG_PREVALENCE', `prevalence of ${key} is ${p}`);
  }
  for (const b of config.boosts) {
    if (SAMPLING_ORDER.indexOf(b.given) >= SAMPLING_ORDER.indexOf(b.boosted) || b.factor < 0)
      throw new PhantomError('CONFIG_BOOST', `boost ${b.given} → ${b.boosted} must follow SAMPLING_ORDER`);
  }
}

/** Parts of a config to change; prevalence and the weights per key. */
export type PhantomConfigOverrides = Partial<
  Omit<PhantomConfig, 'prevalence' | 'severityWeights' | 'tipWeights'>
> & {
  prevalence?: Partial<PhantomConfig['prevalence']>;
  severityWeights?: Partial<PhantomConfig['severityWeights']>;
  tipWeights?: Partial<PhantomConfig['tipWeights']>;
};

/** `overrides` merged over the defaults (prevalence and the weights per key), then validated. */
export function mergePhantomConfig(overrides: PhantomConfigOverrides): PhantomConfig {
  const d = defaultPhantomConfig;
  const config: PhantomConfig = {
    ...d,
    ...overrides,
    prevalence: { ...d.prevalence, ...overrides.prevalence },
    severityWeights: { ...d.severityWeights, ...overrides.severityWeights },
    tipWeights: { ...d.tipWeights, ...overrides.tipWeights },
  };
  validateConfig(config);
  return config;
}

/** Probability that `finding` is present given the findings already drawn. */
export function conditionalProbability(
  config: PhantomConfig,
  finding: FindingKey,
  present: ReadonlySet<FindingKey>,
): number {
  let p = config.prevalence[finding];
  for (const b of config.boosts) if (b.boosted === finding && present.has(b.given)) p *= b.factor;
  return Math.min(MAX_PROBABILITY, p);
}

/** Drivers: findings that condition others. Their joint distribution is enumerated exactly. */
function drivers(config: PhantomConfig): FindingKey[] {
  const set = new Set(config.boosts.map((b) => b.given));
  return SAMPLING_ORDER.filter((k) => set.has(k));
}

/** Every assignment of the drivers with its probability (2^drivers terms). */
function driverJoint(config: PhantomConfig): { present: Set<FindingKey>; p: number }[] {
  let states = [{ present: new Set<FindingKey>(), p: 1 }];
  for (const d of drivers(config)) {
    const next: typeof states = [];
    for (const s of states) {
      const q = conditionalProbability(config, d, s.present);
      next.push({ present: new Set([...s.present, d]), p: s.p * q });
      next.push({ present: s.present, p: s.p * (1 - q) });
    }
    states = next;
  }
  return states;
}

/** P(finding present) within one driver assignment: exact 0/1 for drivers, the conditional otherwise. */
function presenceIn(config: PhantomConfig, state: { present: Set<FindingKey> }, key: FindingKey): number {
  if (drivers(config).includes(key)) return state.present.has(key) ? 1 : 0;
  return conditionalProbability(config, key, state.present);
}

/** Exact marginal prevalence of every finding under `config`. */
export function expectedPrevalence(config: PhantomConfig = defaultPhantomConfig): Record<FindingKey, number> {
  const joint = driverJoint(config);
  const out = {} as Record<FindingKey, number>;
  for (const key of FINDING_KEYS)
    out[key] = joint.reduce((sum, s) => sum + s.p * presenceIn(config, s, key), 0);
  return out;
}

/** Exact P(finding present | `given` present or absent); `given` must be a driver (a boost's `given`). */
export function expectedConditional(
  config: PhantomConfig,
  finding: FindingKey,
  given: FindingKey,
  givenPresent: boolean,
): number {
  if (!drivers(config).includes(given))
    throw new PhantomError('CONFIG_NOT_DRIVER', `${given} conditions no finding in this config`);
  const joint = driverJoint(config).filter((s) => s.present.has(given) === givenPresent);
  const total = joint.reduce((sum, s) => sum + s.p, 0);
  return joint.reduce((sum, s) => sum + s.p * presenceIn(config, s, finding), 0) / total;
}
