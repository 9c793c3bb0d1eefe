/**
 * Claiming version ids. A version id is taken when its directory exists or when `published.jsonl` (an
 * append-only list of every id ever published) names it, so deleting a bad version never frees its id.
 */
import { readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ioCall, ioError, isErrno, RegistryError } from './errors.ts';
import { appendLine, fsyncDir } from './fs-atomic.ts';

const LEDGER_FILE = 'published.jsonl';

export async function versionDirExists(modelDir: string, version: string): Promise<boolean> {
  try {
    return (await stat(join(modelDir, version))).isDirectory();
  } catch (thrown) {
    if (isErrno(thrown, 'ENOENT', 'ENOTDIR')) return false;
    throw ioError(`checking ${version}`, thrown);
  }
}

/** REGISTRY_VERSION_EXISTS when the id is taken now or was ever published. */
export async function assertUnclaimed(modelDir: string, version: string): Promise<void> {
  if (await versionDirExists(modelDir, version)) throw versionExists(version);
  const ledger = await readFile(join(modelDir, LEDGER_FILE), 'utf8').catch((thrown: unknown) => {
    if (isErrno(thrown, 'ENOENT')) return '';
    throw ioError(`reading ${LEDGER_FILE}`, thrown);
  });
  if (ledger.includes(`"version":${JSON.stringify(version)}`)) throw versionExists(version);
}

/** Call under the registry lock: refuses a taken id, renames `tempDir` into place, records the id. */
export async function claimVersion(
  modelDir: string,
  tempDir: string,
  version: string,
  at: Date,
): Promise<void> {
  await assertUnclaimed(modelDir, version);
  try {
    await rename(tempDir, join(modelDir, version));
  } catch (thrown) {
    // rename(2) replaces an empty directory but fails on a non-empty one: a concurrent claim lost here.
    if (isErrno(thrown, 'ENOTEMPTY', 'EEXIST')) throw versionExists(version);
    throw ioError(`renaming ${version} into place`, thrown);
  }
  await ioCall('recording the version id', async () => {
    await fsyncDir(modelDir);
    await appendLine(join(modelDir, LEDGER_FILE), JSON.stringify({ version, at: at.toISOString() }));
  });
}

function versionExists(version: string): RegistryError {
  return new RegistryError('REGISTRY_VERSION_EXISTS', `version ${version} exists or was published before`);
}
