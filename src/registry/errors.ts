/**
 * Typed registry errors with stable codes. Callers (engine swap, loop publish, admin routes) branch on
 * `code`; `details` carries machine-readable context (e.g. the verification problems).
 */
export const REGISTRY_ERROR_CODES = [
  /** A model name or version id does not match the allowed pattern (it would be unsafe as a path). */
  'REGISTRY_INVALID_ID',
  /** `publish` was asked for a version id that exists now or was ever published (ids are never reused). */
  'REGISTRY_VERSION_EXISTS',
  /** No directory for that version under `<root>/<name>/`. */
  'REGISTRY_VERSION_NOT_FOUND',
  /** `manifest.json` is missing, not JSON, fails the schema, or names another model/version. */
  'REGISTRY_MANIFEST_INVALID',
  /** The staging directory is missing, empty, holds a symlink/special file, `manifest.json`, or lacks a required file. */
  'REGISTRY_STAGING_INVALID',
  /** A version failed verification (missing file, size or sha256 mismatch); `details.problems` lists them. */
  'REGISTRY_VERIFY_FAILED',
  /** There is no CURRENT pointer yet. */
  'REGISTRY_NO_CURRENT',
  /** CURRENT exists but does not hold a valid version id. */
  'REGISTRY_CURRENT_INVALID',
  /** A compare-and-swap move (`setCurrent` with `expectFrom`) found CURRENT no longer at the expected version. */
  'REGISTRY_CURRENT_MOVED',
  /** `rollback` found no earlier version to return to (neither in history nor as the current parent). */
  'REGISTRY_NO_PREVIOUS',
  /** Another writer held the registry lock for longer than the lock timeout. */
  'REGISTRY_LOCK_TIMEOUT',
  /** An argument other than an id is malformed (e.g. an empty `actor` or `reason` for a pointer move). */
  'REGISTRY_INVALID_ARGUMENT',
  /** The registry was closed; open a new one. */
  'REGISTRY_CLOSED',
  /** An unexpected filesystem error; `cause` holds it. */
  'REGISTRY_IO_FAILED',
] as const;
export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[number];

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

/** Runs a filesystem step; anything it throws that is not already a RegistryError becomes REGISTRY_IO_FAILED. */
export async function ioCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (thrown) {
    if (thrown instanceof RegistryError) throw thrown;
    throw ioError(what, thrown);
  }
}

/** Wraps an unexpected filesystem error. */
export function ioError(what: string, thrown: unknown): RegistryError {
  const detail = thrown instanceof Error ? thrown.message : String(thrown);
  return new RegistryError('REGISTRY_IO_FAILED', `${what} failed: ${detail}`, { cause: thrown });
}

/** True when `thrown` is a Node system error with that errno code (ENOENT, EEXIST, …). */
export function isErrno(thrown: unknown, ...codes: string[]): boolean {
  return thrown instanceof Error && codes.includes((thrown as NodeJS.ErrnoException).code ?? '');
}
