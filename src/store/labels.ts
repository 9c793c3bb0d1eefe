/**
 * A hard example's label history. Feedback never overwrites: each verdict is appended with its
 * author (the API key id) and the author's standing (LabelAuthorRole), and the loop reads the latest
 * entry by a permitted author.
 *
 * Stored in the row's `label` column as `{"labels": [entry, …]}`, oldest first, at most
 * MAX_LABEL_ENTRIES. Older forms stay readable: a single feedback object (before histories) and a
 * plain reference answer (pool rows).
 */

/**
 * `owner`: the key that asked; `admin`: a key with the admin scope naming the owner; `reviewer`: a
 * clinician's key (review scope) correcting an answer in the review console (`/console`).
 */
export type LabelAuthorRole = 'owner' | 'admin' | 'reviewer';

export interface LabelEntry {
  verdict: 'correct' | 'incorrect';
  correct_answer?: string;
  comment?: string;
  /** API key id of the author (never the key). */
  by: string;
  as: LabelAuthorRole;
  /** ISO time. */
  at: string;
  /** The row was made from an answer record: feedback on an answer that was not flagged. */
  origin?: 'answer_record';
  /** The labelled answer was not flagged (the model was confident). */
  confident?: boolean;
  /** A correction of a confident answer: the loop mines it as an on-policy pair. */
  on_policy_pair?: boolean;
}

/** Entries one row can hold; feedback beyond is refused (FEEDBACK_LIMIT_REACHED). */
export const MAX_LABEL_ENTRIES = 32;

const PERMITTED: ReadonlySet<string> = new Set<LabelAuthorRole>(['owner', 'admin', 'reviewer']);

type StoredEntry = Record<string, unknown>;

function isObject(value: unknown): value is StoredEntry {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The stored entries, oldest first; an older single-object label is one entry; text is none. */
export function labelEntries(label: string | null): StoredEntry[] {
  if (label === null || label.trim() === '') return [];
  let doc: unknown;
  try {
    doc = JSON.parse(label);
  } catch {
    return [];
  }
  if (isObject(doc) && Array.isArray(doc.labels)) return doc.labels.filter(isObject);
  if (isObject(doc)) return [doc];
  return [];
}

/**
 * `label` with `entry` appended, or null when the history is full. A plain-text label (a
 * reference answer) is kept as the first entry, with the standing `reference`.
 */
export function appendLabelEntry(label: string | null, entry: LabelEntry): string | null {
  const entries = labelEntries(label);
  if (entries.length === 0 && label !== null && label.trim() !== '') {
    entries.push({ reference: label, as: 'reference' });
  }
  if (entries.length >= MAX_LABEL_ENTRIES) return null;
  return JSON.stringify({ labels: [...entries, entry] });
}

/**
 * The label the loop trains on: the latest entry by a permitted author (owner, admin or reviewer). A label
 * stored before histories existed (one object without `as`) counts as it did then.
 */
export function latestPermittedEntry(label: string | null): StoredEntry | undefined {
  const entries = labelEntries(label);
  const legacy = entries.length === 1 && entries[0].as === undefined;
  if (legacy) return entries[0];
  for (let i = entries.length - 1; i >= 0; i--) {
    if (PERMITTED.has(String(entries[i].as))) return entries[i];
  }
  return undefined;
}
