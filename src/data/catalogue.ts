/**
 * The finding catalogue: one entry per FindingKey with its names, attributes, radiographic signs,
 * locations and clinical neighbours. Reports, instruction rationales, the labeler and the
 * counterfactual pairs of the preference loop are all written from this table, so a sign or a
 * synonym is changed in one place.
 */
import type { Finding, FindingKey, Severity, Side, TipPosition, Zone } from './types.ts';
import { FINDING_KEYS } from './types.ts';

/** The 14 CheXpert / MIMIC-CXR-JPG observation columns, in the datasets' column order. */
export const CHEXPERT_OBSERVATIONS = [
  'No Finding',
  'Enlarged Cardiomediastinum',
  'Cardiomegaly',
  'Lung Opacity',
  'Lung Lesion',
  'Edema',
  'Consolidation',
  'Pneumonia',
  'Atelectasis',
  'Pneumothorax',
  'Pleural Effusion',
  'Pleural Other',
  'Fracture',
  'Support Devices',
] as const;
export type ChexpertObservation = (typeof CHEXPERT_OBSERVATIONS)[number];

export type AttributeName = 'side' | 'zone' | 'severity' | 'size_mm' | 'tip';

/** Words rendered from a finding's attributes; a missing attribute is simply absent. */
export interface AttributeWords {
  side?: string;
  /** "right lower zone", "lower zones", "right hemithorax". */
  location?: string;
  severity?: string;
  /** "12 mm". */
  size?: string;
  /** "at the cavoatrial junction". */
  tip?: string;
  /** Cardiothoracic ratio bucketed to 0.05, e.g. "0.55". */
  ctr?: string;
}

type SignTemplate = (w: AttributeWords) => string;

export interface FindingSpec {
  key: FindingKey;
  /** Lower-case display name used in text: "pleural effusion". */
  display: string;
  /** Used for bilateral findings: "pleural effusions". */
  plural: string;
  chexpert: ChexpertObservation;
  /** Lower-case phrases that mention the finding (labeler), longest match wins. */
  synonyms: string[];
  /** Whole phrases that state the finding is absent without a negation cue (labeler). */
  normalStatements: string[];
  attributes: AttributeName[];
  severityWords?: Record<Severity, string>;
  /** Radiographic signs of presence, as noun phrases ("blunting of ..."), no final period. */
  presentSigns: SignTemplate[];
  /** Radiographic signs of absence, as clauses ("the costophrenic angles are sharp"). */
  absentSigns: string[];
  typicalLocations: string[];
  confusable: FindingKey[];
  cooccurring: FindingKey[];
  device: boolean;
}

const opt = (word: string | undefined, after = ' '): string => (word ? word + after : '');
const sideAngle = (w: AttributeWords): string =>
  w.side === 'bilateral' ? 'both costophrenic angles' : `the ${opt(w.side)}costophrenic angle`;
const where = (w: AttributeWords, fallback: string): string => (w.location ? `the ${w.location}` : fallback);

const SIZE_WORDS: Record<Severity, string> = { mild: 'small', moderate: 'moderate', severe: 'large' };
const GRADE_WORDS: Record<Severity, string> = { mild: 'mild', moderate: 'moderate', severe: 'severe' };

export const CATALOGUE: Record<FindingKey, FindingSpec> = {
  cardiomegaly: {
    key: 'cardiomegaly',
    display: 'cardiomegaly',
    plural: 'cardiomegaly',
    chexpert: 'Cardiomegaly',
    synonyms: ['cardiomegaly', 'enlarged cardiac silhouette', 'enlarged heart', 'cardiac enlargement'],
    normalStatements: [
      'cardiomediastinal silhouette is within normal limits',
      'heart size is normal',
      'heart size is within normal limits',
      'normal heart size',
      'heart is not enlarged',
    ],
    attributes: ['severity'],
    severityWords: { mild: 'mild', moderate: 'moderate', severe: 'marked' },
    presentSigns: [
      (w) =>
        `an enlarged cardiac silhouette${w.ctr ? `, with a cardiothoracic ratio of about ${w.ctr}` : ''}`,
      (w) =>
        `a transverse cardiac diameter greater than half of the thoracic diameter${w.ctr ? ` (ratio ${w.ctr})` : ''}`,
    ],
    absentSigns: ['the cardiac silhouette is less than half of the thoracic width'],
    typicalLocations: ['cardiac silhouette'],
    confusable: [],
    cooccurring: ['pleural_effusion', 'edema'],
    device: false,
  },
  pleural_effusion: {
    key: 'pleural_effusion',
    display: 'pleural effusion',
    plural: 'pleural effusions',
    chexpert: 'Pleural Effusion',
    synonyms: [
      'pleural effusion',
      'pleural effusions',
      'effusion',
      'effusions',
      'pleural fluid',
      'hydrothorax',
    ],
    normalStatements: ['costophrenic angles are sharp', 'sharp costophrenic angles'],
    attributes: ['side', 'severity'],
    severityWords: SIZE_WORDS,
    presentSigns: [
      (w) => `blunting of ${sideAngle(w)} with a meniscus`,
      (w) => `a dependent homogeneous density with a concave upper border at ${sideAngle(w)}`,
    ],
    absentSigns: ['the costophrenic angles are sharp, with no meniscus'],
    typicalLocations: ['costophrenic angle', 'lung base'],
    confusable: ['atelectasis', 'consolidation'],
    cooccurring: ['cardiomegaly', 'edema', 'atelectasis'],
    device: false,
  },
  pneumothorax: {
    key: 'pneumothorax',
    display: 'pneumothorax',
    plural: 'pneumothoraces',
    chexpert: 'Pneumothorax',
    synonyms: ['pneumothorax', 'pneumothoraces'],
    normalStatements: [],
    attributes: ['side', 'severity', 'zone'],
    severityWords: SIZE_WORDS,
    presentSigns: [
      (w) =>
        `a visceral pleural line with absent lung markings peripheral to it at ${where(w, `the ${opt(w.side)}apex`)}`,
      (w) =>
        `a thin white pleural edge separated from the ${opt(w.side)}chest wall by a lucent space without vessels`,
    ],
    absentSigns: ['lung markings extend to the chest wall, with no visceral pleural line'],
    typicalLocations: ['apex', 'lateral chest wall'],
    confusable: [],
    cooccurring: ['rib_fracture', 'central_line'],
    device: false,
  },
  consolidation: {
    key: 'consolidation',
    display: 'consolidation',
    plural: 'consolidation',
    chexpert: 'Consolidation',
    synonyms: ['consolidation', 'consolidations', 'consolidative', 'airspace consolidation'],
    normalStatements: [],
    attributes: ['side', 'zone', 'severity'],
    severityWords: { mild: 'patchy', moderate: 'moderate', severe: 'extensive' },
    presentSigns: [
      (w) => `a dense airspace shadow with air bronchograms in ${where(w, 'the lung')}`,
      (w) => `homogeneous airspace filling that obscures the vessels in ${where(w, 'the lung')}`,
    ],
    absentSigns: ['there is no airspace shadowing or air bronchogram'],
    typicalLocations: ['lower zone', 'middle zone', 'upper zone'],
    confusable: ['lung_opacity', 'atelectasis', 'mass'],
    cooccurring: ['pleural_effusion'],
    device: false,
  },
  lung_opacity: {
    key: 'lung_opacity',
    display: 'lung opacity',
    plural: 'lung opacities',
    chexpert: 'Lung Opacity',
    synonyms: ['lung opacity', 'lung opacities', 'opacity', 'opacities', 'opacification', 'airspace opacity'],
    normalStatements: [],
    attributes: ['side', 'zone', 'severity'],
    severityWords: { mild: 'faint', moderate: 'moderate', severe: 'dense' },
    presentSigns: [
      (w) => `an ill-defined area of increased density in ${where(w, 'the lung')}`,
      (w) => `hazy increased attenuation through which vessels remain visible in ${where(w, 'the lung')}`,
    ],
    absentSigns: ['the lung fields are of normal and symmetric density'],
    typicalLocations: ['lower zone', 'middle zone', 'upper zone'],
    confusable: ['consolidation', 'atelectasis', 'edema'],
    cooccurring: ['consolidation'],
    device: false,
  },
  nodule: {
    key: 'nodule',
    display: 'nodule',
    plural: 'nodules',
    chexpert: 'Lung Lesion',
    synonyms: ['nodule', 'nodules', 'pulmonary nodule', 'nodular density'],
    normalStatements: [],
    attributes: ['side', 'zone', 'size_mm'],
    presentSigns: [
      (w) => `a round well-defined density${w.size ? ` of ${w.size}` : ''} in ${where(w, 'the lung')}`,
      (w) =>
        `a small rounded density${w.size ? ` measuring ${w.size}` : ''}, under 3 cm, in ${where(w, 'the lung')}`,
    ],
    absentSigns: ['there is no focal rounded density in either lung'],
    typicalLocations: ['upper zone', 'middle zone', 'lower zone'],
    confusable: ['mass'],
    cooccurring: [],
    device: false,
  },
  mass: {
    key: 'mass',
    display: 'mass',
    plural: 'masses',
    chexpert: 'Lung Lesion',
    synonyms: ['mass', 'masses', 'lung mass', 'pulmonary mass'],
    normalStatements: [],
    attributes: ['side', 'zone', 'size_mm'],
    presentSigns: [
      (w) => `a large rounded density${w.size ? ` of ${w.size}` : ''}, over 3 cm, in ${where(w, 'the lung')}`,
      (w) =>
        `a lobulated soft tissue density${w.size ? ` measuring ${w.size}` : ''} in ${where(w, 'the lung')}`,
    ],
    absentSigns: ['there is no focal soft tissue density larger than 3 cm'],
    typicalLocations: ['upper zone', 'hilum', 'middle zone'],
    confusable: ['nodule', 'consolidation'],
    cooccurring: ['pleural_effusion'],
    device: false,
  },
  atelectasis: {
    key: 'atelectasis',
    display: 'atelectasis',
    plural: 'atelectasis',
    chexpert: 'Atelectasis',
    synonyms: ['atelectasis', 'atelectatic', 'plate like atelectasis', 'volume loss', 'collapse'],
    normalStatements: [],
    attributes: ['side', 'zone', 'severity'],
    severityWords: { mild: 'minimal', moderate: 'moderate', severe: 'extensive' },
    presentSigns: [
      (w) => `linear plate-like density in ${where(w, 'the lung base')}`,
      (w) => `a band of increased density with mild volume loss in ${where(w, 'the lung base')}`,
    ],
    absentSigns: ['there is no linear density or volume loss'],
    typicalLocations: ['lower zone', 'lung base'],
    confusable: ['consolidation', 'lung_opacity', 'pleural_effusion'],
    cooccurring: ['pleural_effusion'],
    device: false,
  },
  edema: {
    key: 'edema',
    display: 'pulmonary edema',
    plural: 'pulmonary edema',
    chexpert: 'Edema',
    synonyms: ['edema', 'pulmonary edema', 'interstitial edema', 'alveolar edema', 'vascular congestion'],
    normalStatements: [],
    attributes: ['severity'],
    severityWords: GRADE_WORDS,
    presentSigns: [
      () => 'bilateral perihilar haze with Kerley B lines',
      () => 'indistinct perihilar vessels and septal lines at both bases',
    ],
    absentSigns: ['the pulmonary vessels are sharp and there are no septal lines'],
    typicalLocations: ['perihilar', 'both lungs'],
    confusable: ['lung_opacity', 'consolidation'],
    cooccurring: ['cardiomegaly', 'pleural_effusion'],
    device: false,
  },
  endotracheal_tube: {
    key: 'endotracheal_tube',
    display: 'endotracheal tube',
    plural: 'endotracheal tubes',
    chexpert: 'Support Devices',
    synonyms: ['endotracheal tube', 'et tube', 'ett', 'endotracheal'],
    normalStatements: [],
    attributes: ['tip'],
    presentSigns: [
      (w) => `a radiopaque tube in the trachea${w.tip ? ` with its tip ${w.tip}` : ''}`,
      (w) => `a tubular line along the airway${w.tip ? `, its tip ${w.tip}` : ''}`,
    ],
    absentSigns: ['there is no tube projected over the trachea'],
    typicalLocations: ['trachea'],
    confusable: [],
    cooccurring: ['central_line'],
    device: true,
  },
  central_line: {
    key: 'central_line',
    display: 'central line',
    plural: 'central lines',
    chexpert: 'Support Devices',
    synonyms: ['central line', 'central venous line', 'central venous catheter', 'picc', 'picc line', 'cvc'],
    normalStatements: [],
    attributes: ['side', 'tip'],
    presentSigns: [
      (w) =>
        `a thin radiopaque catheter entering from the ${opt(w.side)}neck${w.tip ? ` with its tip ${w.tip}` : ''}`,
      (w) => `a ${opt(w.side)}venous catheter coursing toward the heart${w.tip ? `, its tip ${w.tip}` : ''}`,
    ],
    absentSigns: ['there is no catheter projected over the veins or heart'],
    typicalLocations: ['superior vena cava', 'cavoatrial junction'],
    confusable: [],
    cooccurring: ['endotracheal_tube'],
    device: true,
  },
  rib_fracture: {
    key: 'rib_fracture',
    display: 'rib fracture',
    plural: 'rib fractures',
    chexpert: 'Fracture',
    synonyms: ['rib fracture', 'rib fractures', 'fracture', 'fractures', 'fractured rib'],
    normalStatements: [],
    attributes: ['side', 'zone'],
    presentSigns: [
      (w) => `a cortical break with step-off in a ${opt(w.side)}rib`,
      (w) => `a lucent line across a ${opt(w.side)}rib with malalignment of the cortex`,
    ],
    absentSigns: ['the rib cortices are continuous'],
    typicalLocations: ['lateral ribs', 'posterior ribs'],
    confusable: [],
    cooccurring: ['pneumothorax'],
    device: false,
  },
};

/** Tip-position phrases per device, anchored to the carina or the cavoatrial junction. */
const TIP_PHRASES: Record<'endotracheal_tube' | 'central_line', Record<TipPosition, string>> = {
  endotracheal_tube: {
    appropriate: 'about 5 cm above the carina',
    too_low: 'at the carina, directed into the right main bronchus',
    too_high: 'high in the trachea, more than 7 cm above the carina',
  },
  central_line: {
    appropriate: 'at the cavoatrial junction',
    too_low: 'deep in the right atrium, below the cavoatrial junction',
    too_high: 'in the brachiocephalic vein, above the superior vena cava',
  },
};

/** Short words for tip answers ("Is the tube too low?"), independent of the device. */
export const TIP_WORDS: Record<TipPosition, string> = {
  appropriate: 'appropriate',
  too_low: 'too low',
  too_high: 'too high',
};

export const ZONE_WORDS: Record<Zone, string> = { upper: 'upper', middle: 'middle', lower: 'lower' };

export function severityWord(key: FindingKey, severity: Severity): string | undefined {
  return CATALOGUE[key].severityWords?.[severity];
}

export function tipPhrase(key: FindingKey, tip: TipPosition): string | undefined {
  return key === 'endotracheal_tube' || key === 'central_line' ? TIP_PHRASES[key][tip] : undefined;
}

/** "right lower zone", "lower zones" (bilateral or sideless), "right hemithorax" (side only). */
export function locationPhrase(side: Side | undefined, zone: Zone | undefined): string | undefined {
  if (zone) {
    if (!side) return `${ZONE_WORDS[zone]} zone`;
    return side === 'bilateral' ? `${ZONE_WORDS[zone]} zones` : `${side} ${ZONE_WORDS[zone]} zone`;
  }
  if (!side) return undefined;
  return side === 'bilateral' ? 'both hemithoraces' : `${side} hemithorax`;
}

/** Millimetres as a whole number, clamped so the vocabulary of sizes stays closed (1–150 mm). */
export function sizeWord(sizeMm: number): string {
  return `${Math.min(150, Math.max(1, Math.round(sizeMm)))} mm`;
}

/** Cardiothoracic ratio bucketed to 0.05 and clamped to 0.30–0.85, two decimals. */
export function ctrWord(ctr: number): string {
  const bucket = Math.min(0.85, Math.max(0.3, Math.round(ctr * 20) / 20));
  return bucket.toFixed(2);
}

/** Attribute words of a finding, keeping only the attributes its catalogue entry allows. */
export function attributeWords(f: Finding, ctr?: number): AttributeWords {
  const spec = CATALOGUE[f.name];
  const allows = (a: AttributeName): boolean => spec.attributes.includes(a);
  const side = allows('side') ? f.side : undefined;
  const zone = allows('zone') ? f.zone : undefined;
  const words: AttributeWords = {};
  if (side) words.side = side;
  const location = locationPhrase(side, zone);
  if (location && (zone || !spec.device)) words.location = location;
  if (allows('severity') && f.severity) words.severity = severityWord(f.name, f.severity);
  if (allows('size_mm') && f.size_mm !== undefined) words.size = sizeWord(f.size_mm);
  if (allows('tip') && f.tip) words.tip = tipPhrase(f.name, f.tip);
  if (f.name === 'cardiomegaly' && ctr !== undefined) words.ctr = ctrWord(ctr);
  return words;
}

/** True when the finding carries any attribute its catalogue entry allows (imported labels do not). */
export function hasAttributes(f: Finding): boolean {
  const a = CATALOGUE[f.name].attributes;
  return (
    (a.includes('side') && f.side !== undefined) ||
    (a.includes('zone') && f.zone !== undefined) ||
    (a.includes('severity') && f.severity !== undefined) ||
    (a.includes('size_mm') && f.size_mm !== undefined) ||
    (a.includes('tip') && f.tip !== undefined)
  );
}

/**
 * Noun phrase for a present finding: "small right pleural effusion", "nodule measuring 12 mm in the
 * right upper zone", "left central line with its tip at the cavoatrial junction".
 */
export function findingPhrase(f: Finding): string {
  const spec = CATALOGUE[f.name];
  const w = attributeWords(f);
  const name = f.side === 'bilateral' ? spec.plural : spec.display;
  const hasZone = w.location !== undefined && f.zone !== undefined;
  const head = [w.severity, hasZone ? undefined : w.side, name].filter(Boolean).join(' ');
  const size = w.size ? ` measuring ${w.size}` : '';
  const place = hasZone ? ` in the ${w.location}` : '';
  const tip = w.tip ? ` with its tip ${w.tip}` : '';
  return `${head}${size}${place}${tip}`;
}

/** The first presence sign rendered for this finding (or the `variant`-th). */
export function presentSign(f: Finding, ctr?: number, variant = 0): string {
  const signs = CATALOGUE[f.name].presentSigns;
  return signs[variant % signs.length](attributeWords(f, ctr));
}

export function absentSign(key: FindingKey, variant = 0): string {
  const signs = CATALOGUE[key].absentSigns;
  return signs[variant % signs.length];
}

export function capitalize(text: string): string {
  return text.length === 0 ? text : text[0].toUpperCase() + text.slice(1);
}

/** Catalogue sanity: every key has an entry, neighbours refer to real keys, never to themselves. */
export function catalogueProblems(): string[] {
  const problems: string[] = [];
  for (const key of FINDING_KEYS) {
    const spec = CATALOGUE[key];
    if (!spec || spec.key !== key) problems.push(`${key}: missing or mislabelled entry`);
    for (const other of [...spec.confusable, ...spec.cooccurring]) {
      if (other === key || !(other in CATALOGUE)) problems.push(`${key}: bad neighbour ${other}`);
    }
    if (spec.attributes.includes('severity') && !spec.severityWords)
      problems.push(`${key}: no severity words`);
  }
  return problems;
}
