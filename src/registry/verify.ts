/**
 * Verification of one version directory against its manifest. Decision: files the manifest does not list
 * are reported as warnings, not problems — consumers must load only listed files, so an extra file cannot
 * change what is served, and NFS leaves transient `.nfs*` files behind; dotfiles are ignored entirely.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno, RegistryError } from './errors.ts';
import { hashFile, listRegularFiles } from './fs-atomic.ts';
import { MANIFEST_FILE, type Manifest, parseManifest } from './manifest.ts';

export type VerifyProblem =
  | { kind: 'manifest_invalid'; message: string }
  | { kind: 'file_missing'; path: string }
  | { kind: 'not_a_file'; path: string }
  | { kind: 'size_mismatch'; path: string; expected: number; actual: number }
  | { kind: 'sha256_mismatch'; path: string; expected: string; actual: string }
  | { kind: 'required_file_unlisted'; path: string };

export interface VerifyResult {
  ok: boolean;
  /** Any problem makes the version unservable. */
  problems: VerifyProblem[];
  /** Files present but not in the manifest (ignored by consumers; listed for the operator). */
  warnings: string[];
  /** The parsed manifest, when it parsed. */
  manifest: Manifest | null;
}

export async function verifyVersionDir(
  dir: string,
  expect: { name: string; version: string },
  requiredFiles: readonly string[],
): Promise<VerifyResult> {
  let manifest: Manifest;
  try {
    manifest = parseManifest(await readFile(join(dir, MANIFEST_FILE), 'utf8'), expect);
  } catch (thrown) {
    const message = isErrno(thrown, 'ENOENT') ? 'manifest.json is missing' : (thrown as Error).message;
    return { ok: false, problems: [{ kind: 'manifest_invalid', message }], warnings: [], manifest: null };
  }
  const problems: VerifyProblem[] = [];
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const path of requiredFiles) {
    if (!listed.has(path)) problems.push({ kind: 'required_file_unlisted', path });
  }
  for (const file of manifest.files) {
    const problem = await checkFile(join(dir, ...file.path.split('/')), file);
    if (problem) problems.push(problem);
  }
  const warnings = await unlistedFiles(dir, listed);
  return { ok: problems.length === 0, problems, warnings, manifest };
}

async function checkFile(
  absolute: string,
  file: { path: string; sha256: string; bytes: number },
): Promise<VerifyProblem | null> {
  try {
    const info = await lstat(absolute); // lstat: a symlink could later point elsewhere
    if (!info.isFile()) return { kind: 'not_a_file', path: file.path };
    // A size mismatch is conclusive and cheap: skip hashing a file that is already known to differ.
    if (info.size !== file.bytes) {
      return { kind: 'size_mismatch', path: file.path, expected: file.bytes, actual: info.size };
    }
    const { sha256 } = await hashFile(absolute);
    if (sha256 !== file.sha256)
      return { kind: 'sha256_mismatch', path: file.path, expected: file.sha256, actual: sha256 };
    return null;
  } catch (thrown) {
    if (isErrno(thrown, 'ENOENT', 'ENOTDIR')) return { kind: 'file_missing', path: file.path };
    throw thrown;
  }
}

async function unlistedFiles(dir: string, listed: ReadonlySet<string>): Promise<string[]> {
  try {
    const present = await listRegularFiles(dir);
    return present.filter(
      (p) => p !== MANIFEST_FILE && !listed.has(p) && !p.split('/').some((s) => s.startsWith('.')),
    );
  } catch {
    // A symlink or special file inside the version is reported through the listed files it affects.
    return [];
  }
}

/** One line per problem, for error messages and logs. */
export function describeProblem(problem: VerifyProblem): string {
  switch (problem.kind) {
    case 'manifest_invalid':
      return `manifest: ${problem.message}`;
    case 'file_missing':
      return `${problem.path}: missing`;
    case 'not_a_file':
      return `${problem.path}: not a regular file`;
    case 'size_mismatch':
      return `${problem.path}: ${problem.actual} bytes, manifest says ${problem.expected}`;
    case 'sha256_mismatch':
      return `${problem.path}: sha256 ${problem.actual.slice(0, 12)}…, manifest says ${problem.expected.slice(0, 12)}…`;
    case 'required_file_unlisted':
      return `${problem.path}: required but not in the manifest`;
  }
}

/** REGISTRY_VERIFY_FAILED naming every problem; `details` carries them for the API and the logs. */
export function verifyFailed(what: string, version: string, result: VerifyResult): RegistryError {
  const problems = result.problems.map(describeProblem).join('; ');
  return new RegistryError('REGISTRY_VERIFY_FAILED', `${what} failed verification: ${problems}`, {
    details: { version, problems: result.problems },
  });
}
