/**
 * Typed store errors with stable codes. Writes from the serving path go through the write queue,
 * which catches these and counts them; direct callers (the loop, feedback) see them as thrown.
 */
import { defineErrors } from '../errors/define.ts';

export class StoreError extends defineErrors('StoreError', {
  STORE_INVALID_VECTOR: {
    when: "A vector's length differs from the store's `embeddingDim`, or it holds NaN/Infinity.",
  },
  STORE_INVALID_ROW: { when: "A row misses a required field or has a value outside its column's domain." },
  STORE_SCHEMA_MISMATCH: {
    when: "An existing table's columns differ from the schema this code writes (e.g. another `embeddingDim`).",
  },
  STORE_CLOSED: { when: 'The store was closed; open a new one.' },
  STORE_NOT_FOUND: {
    when: 'A read-only open found no store (or not every table) at the URI: nothing was created.',
  },
  STORE_BACKEND_FAILED: {
    when: 'LanceDB failed (I/O, object storage, bad SQL filter, commit conflict); `cause` holds its error.',
  },
}) {}
export type StoreErrorCode = StoreError['code'];
export const STORE_ERROR_CODES = Object.keys(StoreError.specs) as StoreErrorCode[];

/** Runs a LanceDB call; anything it throws that is not already a StoreError becomes STORE_BACKEND_FAILED. */
export async function backendCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (thrown) {
    if (thrown instanceof StoreError) throw thrown;
    const detail = thrown instanceof Error ? thrown.message : String(thrown);
    throw new StoreError('STORE_BACKEND_FAILED', `${what} failed: ${detail}`, { cause: thrown });
  }
}
