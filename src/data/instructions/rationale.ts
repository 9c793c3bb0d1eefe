/**
 * Case-specific rationales written from the catalogue's radiographic signs, so a rationale names
 * what is seen and where ("blunting of the right costophrenic angle"), never a generic reason.
 */
import { absentSign, CATALOGUE, capitalize, ctrWord, presentSign } from '../catalogue.ts';
import type { Rng } from '../random.ts';
import { existential, indefiniteDisplay, indefinitePhrase } from '../report/write.ts';
import type { Finding, FindingKey, LabelledCase } from '../types.ts';

/** "There is <sign>, consistent with <finding phrase>." */
export function presenceRationale(f: Finding, c: LabelledCase, rng: Rng): string {
  const spec = CATALOGUE[f.name];
  const sign = presentSign(f, c.ctr, rng.int(0, spec.presentSigns.length - 1));
  return `There is ${sign}, consistent with ${indefinitePhrase(f)}.`;
}

/**
 * Why a finding is absent; when a present finding explains the question (a hard negative), it is
 * named: "There is moderate atelectasis in the right lower zone, which can mimic consolidation."
 */
export function absenceRationale(key: FindingKey, c: LabelledCase, rng: Rng): string {
  const spec = CATALOGUE[key];
  const parts = [`${capitalize(absentSign(key, rng.int(0, spec.absentSigns.length - 1)))}.`];
  const present = c.findings.filter((f) => f.present);
  const mimic = present.find(
    (f) => spec.confusable.includes(f.name) || CATALOGUE[f.name].confusable.includes(key),
  );
  const partner = present.find(
    (f) => spec.cooccurring.includes(f.name) || CATALOGUE[f.name].cooccurring.includes(key),
  );
  if (mimic) parts.push(`${capitalize(existential(mimic))}, which can mimic ${spec.display}.`);
  else if (partner) parts.push(`${capitalize(existential(partner))}, but no ${spec.display} accompanies it.`);
  return parts.join(' ');
}

/** Presence rationale that also rules out the alternative offered by a choice question. */
export function choiceFindingRationale(f: Finding, other: FindingKey, c: LabelledCase, rng: Rng): string {
  const base = presenceRationale(f, c, rng).replace(/\.$/, '');
  return `${base}, rather than ${indefiniteDisplay(other)}.`;
}

export function ctrRationale(c: LabelledCase, ctr: number): string {
  const word = ctrWord(ctr);
  const bucket = Number(word);
  const relation = bucket > 0.5 ? 'above' : bucket < 0.5 ? 'below' : 'at';
  const cardiomegaly = c.findings.find((f) => f.name === 'cardiomegaly');
  let verdict = '';
  if (cardiomegaly?.present) verdict = ', consistent with cardiomegaly';
  else if (cardiomegaly) verdict = ', so the heart size is normal';
  return `The transverse cardiac diameter is about ${word} of the thoracic diameter, ${relation} the limit of 0.50${verdict}.`;
}

/** Rationale for an abnormality list: one sign per listed finding, or the key normal signs. */
export function listRationale(positives: Finding[], c: LabelledCase, rng: Rng): string {
  if (positives.length === 0) {
    const normals: FindingKey[] = ['consolidation', 'pleural_effusion', 'pneumothorax', 'cardiomegaly'];
    return normals.map((k) => `${capitalize(absentSign(k))}.`).join(' ');
  }
  return positives.map((f) => presenceRationale(f, c, rng)).join(' ');
}
