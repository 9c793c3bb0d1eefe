/**
 * Typed store errors with stable codes. Writes from the serving path go through the write queue,
 * which catches these and counts them; direct callers (the loop, feedback) see them as thrown.
 */
export const STORE_ERROR_CODES = [
  /** A vector's length differs from the store's `embeddingDim`, or it holds NaN/Infinity. */
  'STORE_INVALID_VECTOR',
  /** A row misses a required field or has a value outside its column's domain. */
  'STORE_INVALID_ROW',
  /** An existing table's columns differ from the schema this code writes (e.g. another `embeddingDim`). */
  'STORE_SCHEMA_MISMATCH',
  /** The store was closed; open a new one. */
  'STORE_CLOSED',
  /** A read-only open found no store (or not every table) at the URI: nothing was created. */
  'STORE_NOT_FOUND',
  /** LanceDB failed (I/O, object storage, bad SQL filter, commit conflict); `cause` holds its error. */
  'STORE_BACKEND_FAILED',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

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
