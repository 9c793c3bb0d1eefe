/**
 * Shared data shapes of the data pipeline (see ARCHITECTURE.md, "Data shapes").
 * Finding keys are snake_case ids; display names and CheXpert names live in the catalogue.
 */
export const FINDING_KEYS = [
  'cardiomegaly',
  'pleural_effusion',
  'pneumothorax',
  'consolidation',
  'lung_opacity',
  'nodule',
  'mass',
  'atelectasis',
  'edema',
  'endotracheal_tube',
  'central_line',
  'rib_fracture',
] as const;
export type FindingKey = (typeof FINDING_KEYS)[number];

export type Side = 'left' | 'right' | 'bilateral';
export type Zone = 'upper' | 'middle' | 'lower';
/** Internal three-level scale; the catalogue maps it to words per finding (small/moderate/large, mild/…). */
export type Severity = 'mild' | 'moderate' | 'severe';
/** Tip position of a tube or line relative to where it should be. */
export type TipPosition = 'appropriate' | 'too_low' | 'too_high';
export type View = 'PA' | 'AP';

export interface Finding {
  name: FindingKey;
  present: boolean;
  side?: Side;
  zone?: Zone;
  severity?: Severity;
  size_mm?: number;
  tip?: TipPosition;
}

/** A case with labels, synthetic or imported. Findings not listed are unknown (never asked about). */
export interface LabelledCase {
  id: string;
  findings: Finding[];
  view?: View;
  /** Cardiothoracic ratio when known exactly (phantoms). */
  ctr?: number;
}

/** A grayscale image with integer pixels (higher = brighter = more attenuation, as MONOCHROME2). */
export interface GrayImage {
  width: number;
  height: number;
  /** Significant bits per pixel, e.g. 8, 12 or 16; pixels are < 2 ** bitsStored. */
  bitsStored: number;
  data: Uint16Array;
}

/** A synthetic case; its findings list has one entry per catalogue finding, so absence is exact too. */
export interface PhantomCase extends LabelledCase {
  /** The case seed; one patient per seed, so splits by seed are splits by patient. */
  seed: number;
  patient_id: string;
  view: View;
  /** Cardiothoracic ratio as drawn (exact, measured on the phantom geometry). */
  ctr: number;
  anatomy: Record<string, number>;
}

export type Split = 'train' | 'validation' | 'test';

export type TaskType = 'closed' | 'choice' | 'open' | 'abnormality_list' | 'report';

export interface InstructionSample {
  id: string;
  case_id: string;
  task: TaskType;
  question: string;
  /** Short answer: yes/no, the chosen option, the attribute value, a list, or the report. */
  answer: string;
  rationale: string;
  /** The exact text the model is trained to produce after the prompt. */
  target_text: string;
  finding?: FindingKey;
  attribute?: string;
  /** Options offered by a choice question, in the order shown. */
  options?: string[];
  /** Which phrasing template produced the question (for coverage tests and balancing). */
  template: string;
  /** Closed questions about an absent finding: POPE's negative sampling it belongs to. */
  negative?: NegativeKind;
}

/** POPE's negative samplings: absent findings related to a present one, among the commonest, or any. */
export type NegativeKind = 'adversarial' | 'popular' | 'random';
