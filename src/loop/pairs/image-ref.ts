/**
 * ImageRef ⇄ string, for the store's `image_ref` column and for cache keys: JSON with object keys
 * sorted, so two equal references always give the same string whatever their key order.
 */
import type { ImageRef } from '../types.ts';
import { PairsError } from './errors.ts';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((k) => [k, canonical(record[k])]),
    );
  }
  return value;
}

export function encodeImageRef(ref: ImageRef): string {
  return JSON.stringify(canonical(ref));
}

export function decodeImageRef(text: string): ImageRef {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PairsError('PAIRS_BAD_ROW', `image_ref is not JSON: ${text.slice(0, 80)}`);
  }
  const ref = value as Partial<ImageRef> & Record<string, unknown>;
  const ok =
    (ref.kind === 'case' && typeof ref.case_id === 'string') ||
    (ref.kind === 'phantom_edit' && typeof ref.case_id === 'string' && typeof ref.edit === 'object') ||
    (ref.kind === 'hard_example' && typeof ref.id === 'string');
  if (!ok) throw new PairsError('PAIRS_BAD_ROW', `not an image reference: ${text.slice(0, 80)}`);
  return ref as ImageRef;
}

/** A short file-name-safe label of a reference (for exported PNG names). */
export function imageRefSlug(ref: ImageRef): string {
  if (ref.kind === 'hard_example') return `hard-${ref.id}`;
  if (ref.kind === 'case') return ref.case_id;
  const c = ref.edit.change;
  const change = typeof c === 'string' ? c : 'side' in c ? `side-${c.side}` : `severity-${c.severity}`;
  return `${ref.case_id}~${ref.edit.finding}-${change}`;
}
