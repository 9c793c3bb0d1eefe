/**
 * Counterfactual cases: the same patient (seed, anatomy, noise) with one finding removed, added or
 * altered. Rendering the edited case changes pixels only inside findingRegion (plus blur).
 */
import { Rng } from '../random.ts';
import {
  FINDING_KEYS,
  type Finding,
  type FindingKey,
  type PhantomCase,
  type Severity,
  type Side,
} from '../types.ts';
import { applyHeart } from './anatomy.ts';
import { defaultPhantomConfig, type PhantomConfig } from './config.ts';
import { PhantomError } from './errors.ts';
import { sampleAttributes, sizeInBand } from './sample.ts';

export interface CaseEdit {
  finding: FindingKey;
  change: 'remove' | 'add' | { side: Side } | { severity: Severity };
}

/** Sides each finding may take; findings without a side are absent from the table. */
const ALLOWED_SIDES: Partial<Record<FindingKey, readonly Side[]>> = {
  pleural_effusion: ['left', 'right', 'bilateral'],
  pneumothorax: ['left', 'right'],
  consolidation: ['left', 'right'],
  lung_opacity: ['left', 'right'],
  nodule: ['left', 'right'],
  mass: ['left', 'right'],
  atelectasis: ['left', 'right'],
  central_line: ['left', 'right'],
  rib_fracture: ['left', 'right'],
};

const HAS_SEVERITY = new Set<FindingKey>([
  'cardiomegaly',
  'pleural_effusion',
  'pneumothorax',
  'consolidation',
  'lung_opacity',
  'edema',
]);

function changeLabel(change: CaseEdit['change']): string {
  if (typeof change === 'string') return change;
  return 'side' in change ? `side-${change.side}` : `severity-${change.severity}`;
}

function editedFinding(c: PhantomCase, f: Finding, edit: CaseEdit, config: PhantomConfig): Finding {
  const { change } = edit;
  if (change === 'remove') return { name: f.name, present: false };
  if (change === 'add') {
    if (f.present) return { ...f };
    const others = new Set(c.findings.filter((g) => g.present).map((g) => g.name));
    return sampleAttributes(f.name, c.seed, config, others);
  }
  if (!f.present)
    throw new PhantomError('EDIT_NOT_APPLICABLE', `${f.name} is absent; add it before altering it`);
  if ('side' in change) {
    if (!ALLOWED_SIDES[f.name]?.includes(change.side))
      throw new PhantomError('EDIT_NOT_APPLICABLE', `${f.name} cannot be ${change.side}`);
    return { ...f, side: change.side };
  }
  if (f.name === 'nodule' || f.name === 'mass') {
    // Size findings: a severity edit picks a size in that band, at a seed-fixed place in the band.
    const u = Rng.derive(c.seed, `edit-size:${f.name}`).next();
    return { ...f, size_mm: sizeInBand(f.name, change.severity, u) };
  }
  if (!HAS_SEVERITY.has(f.name)) throw new PhantomError('EDIT_NOT_APPLICABLE', `${f.name} has no severity`);
  return { ...f, severity: change.severity };
}

/** The same patient with one finding changed. The id records the edit; patient, seed and anatomy stay. */
export function editCase(
  c: PhantomCase,
  edit: CaseEdit,
  config: PhantomConfig = defaultPhantomConfig,
): PhantomCase {
  if (!FINDING_KEYS.includes(edit.finding))
    throw new PhantomError('EDIT_UNKNOWN_FINDING', `unknown finding '${edit.finding}'`);
  const current = c.findings.find((f) => f.name === edit.finding) ?? { name: edit.finding, present: false };
  const next = editedFinding(c, current, edit, config);
  const findings = FINDING_KEYS.map((key) =>
    key === edit.finding
      ? next
      : { ...(c.findings.find((f) => f.name === key) ?? { name: key, present: false }) },
  );
  const anatomy = { ...c.anatomy };
  const ctr = edit.finding === 'cardiomegaly' ? applyHeart(anatomy, next) : c.ctr;
  return { ...c, id: `${c.id}~${edit.finding}-${changeLabel(edit.change)}`, findings, anatomy, ctr };
}
