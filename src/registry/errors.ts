/**
 * Typed registry errors with stable codes. Callers (engine swap, loop publish, admin routes) branch on
 * `code`; `details` carries machine-readable context (e.g. the verification problems).
 */
import { defineErrors } from '../errors/define.ts';

export class RegistryError extends defineErrors('RegistryError', {
  REGISTRY_INVALID_ID: {
    when: 'A model name or version id does not match the allowed pattern (it would be unsafe as a path).',
  },
  REGISTRY_VERSION_EXISTS: {
    when: '`publish` was asked for a version id that exists now or was ever published (ids are never reused).',
  },
  REGISTRY_VERSION_NOT_FOUND: { when: 'No directory for that version under `<root>/<name>/`.' },
  REGISTRY_MANIFEST_INVALID: {
    when: '`manifest.json` is missing, not JSON, fails the schema, or names another model/version.',
  },
  REGISTRY_STAGING_INVALID: {
    when: 'The staging directory is missing, empty, holds a symlink/special file, `manifest.json`, or lacks a required file.',
  },
  REGISTRY_VERIFY_FAILED: {
    when: 'A version failed verification (missing file, size or sha256 mismatch); `details.problems` lists them.',
  },
  REGISTRY_NO_CURRENT: { when: 'There is no CURRENT pointer yet.' },
  REGISTRY_CURRENT_INVALID: { when: 'CURRENT exists but does not hold a valid version id.' },
  REGISTRY_CURRENT_MOVED: {
    when: 'A compare-and-swap move (`setCurrent` with `expectFrom`) found CURRENT no longer at the expected version.',
  },
  REGISTRY_NO_PREVIOUS: {
    when: '`rollback` found no earlier version to return to (neither in history nor as the current parent).',
  },
  REGISTRY_LOCK_TIMEOUT: { when: 'Another writer held the registry lock for longer than the lock timeout.' },
  REGISTRY_INVALID_ARGUMENT: {
    when: 'An argument other than an id is malformed (e.g. an empty `actor` or `reason` for a pointer move).',
  },
  REGISTRY_CLOSED: { when: 'The registry was closed; open a new one.' },
  REGISTRY_IO_FAILED: { when: 'An unexpected filesystem error; `cause` holds it.' },
}) {
  declare readonly details?: Record<string, unknown>;
}
export type RegistryErrorCode = RegistryError['code'];
export const REGISTRY_ERROR_CODES = Object.keys(RegistryError.specs) as RegistryErrorCode[];

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
