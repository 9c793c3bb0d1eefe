/**
 * Question phrasings. Each question type has at least three; the template id is recorded on every
 * sample so coverage can be tested and training can be balanced by phrasing.
 * Placeholders: {finding} display name with article ("a pleural effusion"), {name} bare display
 * name, {o1}/{o2} options in the order shown ({a1}/{a2} with articles), {location} a location phrase.
 */

export type QuestionType =
  | 'closed'
  | 'choice_side'
  | 'choice_finding'
  | 'choice_severity'
  | 'choice_tip'
  | 'open_location'
  | 'open_severity'
  | 'open_size'
  | 'open_type'
  | 'open_device'
  | 'open_tip'
  | 'open_ctr'
  | 'abnormality_list'
  | 'report';

export interface Template {
  id: string;
  text: string;
}

const T = (type: QuestionType, texts: string[]): Template[] =>
  texts.map((text, i) => ({ id: `${type}.${i + 1}`, text }));

export const TEMPLATES: Record<QuestionType, Template[]> = {
  closed: T('closed', [
    'Is there {finding}?',
    'Does this radiograph show {finding}?',
    'Is there any evidence of {finding}?',
    'Is {finding} present?',
  ]),
  choice_side: T('choice_side', [
    'Is the {name} {o1} or {o2}?',
    'Which side is affected by the {name}: {o1} or {o2}?',
    'Is this a {o1} or a {o2} {name}?',
  ]),
  choice_finding: T('choice_finding', [
    'Is there {a1} or {a2}?',
    'Which finding is present: {o1} or {o2}?',
    'Is the abnormality {a1} or {a2}?',
  ]),
  choice_severity: T('choice_severity', [
    'Is the {name} {o1} or {o2}?',
    'How severe is the {name}: {o1} or {o2}?',
    'Would you grade the {name} as {o1} or {o2}?',
  ]),
  choice_tip: T('choice_tip', [
    'Is the tip of the {name} {o1} or {o2}?',
    'Is the {name} positioned {o1} or {o2}?',
    'Regarding the {name}, is the tip position {o1} or {o2}?',
  ]),
  open_location: T('open_location', [
    'Where is the {name}?',
    'What is the location of the {name}?',
    'In which part of the chest is the {name}?',
  ]),
  open_severity: T('open_severity', [
    'How severe is the {name}?',
    'What is the severity of the {name}?',
    'How would you grade the {name}?',
  ]),
  open_size: T('open_size', [
    'What is the size of the {name}?',
    'How large is the {name} in millimetres?',
    'What does the {name} measure?',
  ]),
  open_type: T('open_type', [
    'What abnormality is seen in the {location}?',
    'What is the finding in the {location}?',
    'Which abnormality is located in the {location}?',
  ]),
  open_device: T('open_device', [
    'What support device is present?',
    'Which tube or line is seen?',
    'What device is visible on this radiograph?',
  ]),
  open_tip: T('open_tip', [
    'Where is the tip of the {name}?',
    'What is the position of the {name} tip?',
    'How is the {name} positioned?',
  ]),
  open_ctr: T('open_ctr', [
    'What is the cardiothoracic ratio?',
    'Estimate the cardiothoracic ratio.',
    'What is the ratio of the cardiac width to the thoracic width?',
  ]),
  abnormality_list: T('abnormality_list', [
    'List the abnormalities.',
    'What abnormalities are present?',
    'Name all abnormal findings on this radiograph.',
    'Which abnormalities do you see?',
  ]),
  report: T('report', [
    'Write the radiology report for this chest radiograph.',
    'Describe the findings of this chest radiograph.',
    'Generate a report with findings and impression.',
    'What are the findings and impression?',
  ]),
};

export const ALL_TEMPLATE_IDS: string[] = Object.values(TEMPLATES).flatMap((ts) => ts.map((t) => t.id));

export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
