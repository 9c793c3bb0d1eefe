/**
 * Hand-made and random LabelledCases for the language tests, independent of the phantom module.
 * Random cases label every finding (like phantoms), with the attributes the catalogue allows.
 */
import { CATALOGUE } from '../../../src/data/catalogue.ts';
import { Rng } from '../../../src/data/random.ts';
import type {
  Finding,
  FindingKey,
  LabelledCase,
  Severity,
  Side,
  TipPosition,
  Zone,
} from '../../../src/data/types.ts';
import { FINDING_KEYS } from '../../../src/data/types.ts';

const SEVERITIES: Severity[] = ['mild', 'moderate', 'severe'];
const ZONES: Zone[] = ['upper', 'middle', 'lower'];
const TIPS: TipPosition[] = ['appropriate', 'too_low', 'too_high'];

export function randomFinding(key: FindingKey, present: boolean, rng: Rng): Finding {
  const f: Finding = { name: key, present };
  if (!present) return f;
  const attrs = CATALOGUE[key].attributes;
  if (attrs.includes('side')) {
    const sides: Side[] = key === 'pleural_effusion' ? ['left', 'right', 'bilateral'] : ['left', 'right'];
    f.side = rng.pick(sides);
  }
  if (attrs.includes('zone')) f.zone = rng.pick(ZONES);
  if (attrs.includes('severity')) f.severity = rng.pick(SEVERITIES);
  if (attrs.includes('size_mm')) f.size_mm = key === 'mass' ? rng.uniform(30, 80) : rng.uniform(4, 29);
  if (attrs.includes('tip')) f.tip = rng.pick(TIPS);
  return f;
}

/** Every finding known; each present with probability `prevalence`; nodule and mass exclusive. */
export function randomCase(seed: number, prevalence = 0.25): LabelledCase {
  const rng = new Rng(seed);
  const findings = FINDING_KEYS.map((k) => randomFinding(k, rng.bool(prevalence), rng));
  const nodule = findings.find((f) => f.name === 'nodule')!;
  const mass = findings.find((f) => f.name === 'mass')!;
  if (nodule.present && mass.present)
    Object.assign(mass, { present: false, side: undefined, zone: undefined, size_mm: undefined });
  for (const f of findings)
    for (const k of Object.keys(f) as (keyof Finding)[]) if (f[k] === undefined) delete f[k];
  const cardiomegaly = findings.find((f) => f.name === 'cardiomegaly')!;
  const ctr = cardiomegaly.present ? rng.uniform(0.52, 0.75) : rng.uniform(0.38, 0.49);
  return { id: `case-${seed}`, findings, view: rng.bool(0.5) ? 'PA' : 'AP', ctr };
}

export function randomCases(n: number, seed: number, prevalence?: number): LabelledCase[] {
  return Array.from({ length: n }, (_, i) => randomCase(seed * 100_003 + i, prevalence));
}

/** A hand-written case: small right effusion, moderate cardiomegaly, all else absent. */
export function effusionCase(): LabelledCase {
  return {
    id: 'hand-effusion',
    ctr: 0.58,
    findings: FINDING_KEYS.map((name): Finding => {
      if (name === 'pleural_effusion') return { name, present: true, side: 'right', severity: 'mild' };
      if (name === 'cardiomegaly') return { name, present: true, severity: 'moderate' };
      return { name, present: false };
    }),
  };
}
