/**
 * Importer for real labelled chest radiographs in CheXpert or MIMIC-CXR-JPG style: a CSV of the 14
 * CheXpert observations (1.0 positive, 0.0 negative, -1.0 uncertain, blank not mentioned) plus the
 * image location, turned into LabelledCases with presence-only findings.
 *
 * Mapping rules (a positive maps onto a key only when the observation implies that finding; a
 * negative maps onto every key whose finding implies the observation):
 * - Cardiomegaly, Lung Opacity, Edema, Consolidation, Atelectasis, Pneumothorax, Pleural Effusion:
 *   one key each, both ways.
 * - Lung Lesion → nodule and mass; Fracture → rib_fracture; Support Devices → endotracheal_tube and
 *   central_line: 0 makes the keys absent; 1 does not say which (a lesion is a nodule OR a mass; a
 *   fracture may be of the clavicle; a device may be a pacemaker), so the keys stay unknown and the
 *   observation is listed in `unmappedPositive`. Asking "Is there a mass?" with answer yes for a
 *   nodule would teach exactly the hallucination the preference loop is meant to remove.
 * - No Finding = 1 makes every still-unknown non-device key absent (CheXpert's No Finding excludes
 *   support devices). Enlarged Cardiomediastinum, Pneumonia and Pleural Other have no key.
 * - Blank = unknown (never asked about). -1 follows `uncertain`: 'ignore' (unknown, the default),
 *   'positive' (U-Ones) or 'negative' (U-Zeros).
 * Patient and study ids are salted SHA-256 hashes; raw ids never leave this module.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOGUE, CHEXPERT_OBSERVATIONS, type ChexpertObservation } from '../catalogue.ts';
import type { SynthesizeOptions } from '../instructions/synthesize.ts';
import { synthesizeInstructions } from '../instructions/synthesize.ts';
import { Rng } from '../random.ts';
import type { Finding, FindingKey, InstructionSample, LabelledCase, View } from '../types.ts';
import { FINDING_KEYS } from '../types.ts';
import { type CsvRow, readCsvRecords } from './csv.ts';
import { ImportError } from './errors.ts';

export type UncertainPolicy = 'ignore' | 'positive' | 'negative';

export interface ImportOptions {
  /** Directory the CSV's image paths are relative to. */
  imageRoot: string;
  /** What -1.0 (uncertain) becomes; default 'ignore' (unknown). */
  uncertain?: UncertainPolicy;
  /** Skip lateral views (the model reads frontal radiographs); default true. */
  frontalOnly?: boolean;
  /** Salt of the patient/study hashes; keep it fixed across imports so splits stay by patient. */
  salt?: string;
}

export interface ImportedRecord {
  case: LabelledCase;
  imagePath: string;
  /** Salted SHA-256 of the source patient id (16 hex digits). */
  patientId: string;
  studyId: string;
  /** Positive observations that name no single finding key (see the mapping rules above). */
  unmappedPositive: ChexpertObservation[];
  /** Findings the source labelled uncertain (-1.0), whatever the policy made of them. */
  uncertainFindings: FindingKey[];
}

type Value = 1 | 0 | -1 | undefined;

const DIRECT: Partial<Record<ChexpertObservation, FindingKey>> = {
  Cardiomegaly: 'cardiomegaly',
  'Lung Opacity': 'lung_opacity',
  Edema: 'edema',
  Consolidation: 'consolidation',
  Atelectasis: 'atelectasis',
  Pneumothorax: 'pneumothorax',
  'Pleural Effusion': 'pleural_effusion',
};
const NEGATIVE_ONLY: Partial<Record<ChexpertObservation, FindingKey[]>> = {
  'Lung Lesion': ['nodule', 'mass'],
  Fracture: ['rib_fracture'],
  'Support Devices': ['endotracheal_tube', 'central_line'],
};

function parseValue(raw: string, column: string, line: number): Value {
  const v = raw.trim();
  if (v === '') return undefined;
  const n = Number(v);
  if (n === 1 || n === 0 || n === -1) return n;
  throw new ImportError('CHEXPO_ERR_IMPORT_VALUE', `${column} must be 1, 0, -1 or blank, got "${raw}"`, line);
}

function hashId(salt: string, kind: string, raw: string): string {
  return createHash('sha256').update(`${salt}\u0000${kind}\u0000${raw}`).digest('hex').slice(0, 16);
}

interface Located {
  imageRelative: string;
  patient: string;
  study: string;
  view?: View;
  lateral: boolean;
}

function viewOf(raw: string | undefined): { view?: View; lateral: boolean } {
  const v = (raw ?? '').trim().toUpperCase();
  if (v === 'AP' || v === 'PA') return { view: v, lateral: false };
  return { lateral: v === 'LATERAL' || v === 'LL' || v === 'LAT' };
}

/** CheXpert: Path ".../patient00001/study1/view1_frontal.jpg" with Frontal/Lateral and AP/PA columns. */
function locateChexpert(row: CsvRow): Located {
  const path = row.values['Path'];
  const m = /patient(\d+)\/study(\d+)\//.exec(path);
  if (!m)
    throw new ImportError('CHEXPO_ERR_IMPORT_PATIENT', `no patientNNN/studyN in Path "${path}"`, row.line);
  const view = viewOf(row.values['AP/PA']);
  const lateral = row.values['Frontal/Lateral']?.trim() === 'Lateral' || view.lateral;
  return { imageRelative: path, patient: m[1], study: `${m[1]}/${m[2]}`, view: view.view, lateral };
}

/** MIMIC-CXR-JPG: subject_id, study_id and dicom_id (or a path column), ViewPosition if merged in. */
function locateMimic(row: CsvRow): Located {
  const subject = row.values['subject_id'].trim();
  const study = row.values['study_id'].trim();
  const dicom = row.values['dicom_id']?.trim();
  const explicit = row.values['path']?.trim();
  if (!explicit && !dicom) {
    throw new ImportError(
      'CHEXPO_ERR_IMPORT_COLUMNS',
      'MIMIC rows need dicom_id or path to locate the image',
      row.line,
    );
  }
  const imageRelative = explicit || `files/p${subject.slice(0, 2)}/p${subject}/s${study}/${dicom}.jpg`;
  const view = viewOf(row.values['ViewPosition']);
  return { imageRelative, patient: subject, study, view: view.view, lateral: view.lateral };
}

function findingsOf(
  row: CsvRow,
  policy: UncertainPolicy,
): Omit<ImportedRecord, 'case' | 'imagePath' | 'patientId' | 'studyId'> & { findings: Finding[] } {
  const labels = new Map<FindingKey, boolean>();
  const unmappedPositive: ChexpertObservation[] = [];
  const uncertainFindings: FindingKey[] = [];
  for (const obs of CHEXPERT_OBSERVATIONS) {
    if (obs === 'No Finding') continue;
    let value = parseValue(row.values[obs] ?? '', obs, row.line);
    const direct = DIRECT[obs];
    if (value === -1 && direct) uncertainFindings.push(direct);
    if (value === -1) value = policy === 'positive' ? 1 : policy === 'negative' ? 0 : undefined;
    if (value === undefined) continue;
    if (direct) labels.set(direct, value === 1);
    else if (value === 0) for (const key of NEGATIVE_ONLY[obs] ?? []) labels.set(key, false);
    else unmappedPositive.push(obs);
  }
  if (parseValue(row.values['No Finding'] ?? '', 'No Finding', row.line) === 1) {
    for (const key of FINDING_KEYS) {
      if (!CATALOGUE[key].device && !labels.has(key) && !uncertainFindings.includes(key))
        labels.set(key, false);
    }
  }
  const findings = FINDING_KEYS.filter((k) => labels.has(k)).map((name) => ({
    name,
    present: labels.get(name)!,
  }));
  return { findings, unmappedPositive, uncertainFindings };
}

export function importLabelCsv(csvText: string, options: ImportOptions): ImportedRecord[] {
  const { header, rows } = readCsvRecords(csvText);
  const isChexpert = header.includes('Path');
  const isMimic = header.includes('subject_id') && header.includes('study_id');
  if (!isChexpert && !isMimic) {
    throw new ImportError(
      'CHEXPO_ERR_IMPORT_COLUMNS',
      'need a Path column (CheXpert) or subject_id and study_id (MIMIC)',
    );
  }
  const missing = CHEXPERT_OBSERVATIONS.filter((o) => !header.includes(o));
  if (missing.length > 0) {
    throw new ImportError('CHEXPO_ERR_IMPORT_COLUMNS', `missing observation columns: ${missing.join(', ')}`);
  }
  const salt = options.salt ?? 'chexpo';
  const records: ImportedRecord[] = [];
  for (const row of rows) {
    const where = isChexpert ? locateChexpert(row) : locateMimic(row);
    if (where.lateral && (options.frontalOnly ?? true)) continue;
    const { findings, unmappedPositive, uncertainFindings } = findingsOf(row, options.uncertain ?? 'ignore');
    const patientId = hashId(salt, 'patient', where.patient);
    const studyId = hashId(salt, 'study', where.study);
    const c: LabelledCase = { id: `import-${hashId(salt, 'image', where.imageRelative)}`, findings };
    if (where.view) c.view = where.view;
    records.push({
      case: c,
      imagePath: join(options.imageRoot, where.imageRelative),
      patientId,
      studyId,
      unmappedPositive,
      uncertainFindings,
    });
  }
  return records;
}

export async function importLabelCsvFile(csvPath: string, options: ImportOptions): Promise<ImportedRecord[]> {
  return importLabelCsv(await readFile(csvPath, 'utf8'), options);
}

/** Instruction samples for imported records; each case draws from its own stream of `seed`. */
export function importedInstructions(
  records: readonly ImportedRecord[],
  seed: number,
  options?: SynthesizeOptions,
): InstructionSample[] {
  return records.flatMap((r) => synthesizeInstructions(r.case, Rng.derive(seed, r.case.id), options));
}
