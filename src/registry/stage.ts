/**
 * Filling a publish temp directory from a staging directory: copy (default) or move the files, then
 * hash what actually landed and fsync it, so the manifest describes the stored bytes.
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isErrno, RegistryError } from './errors.ts';
import { fsyncDir, fsyncFile, hashFile, listRegularFiles } from './fs-atomic.ts';
import { isSafeFilePath, MANIFEST_FILE, type ManifestFile } from './manifest.ts';

export type StageMode = 'copy' | 'move';

/** Lists and checks the staging directory's files before anything is written. */
export async function checkStaging(stagingDir: string, requiredFiles: readonly string[]): Promise<string[]> {
  const info = await stat(stagingDir).catch((thrown: unknown) => {
    if (isErrno(thrown, 'ENOENT', 'ENOTDIR')) return null;
    throw thrown;
  });
  if (!info?.isDirectory()) throw staging(`${stagingDir} is not a directory`);
  const files = await listRegularFiles(stagingDir);
  if (files.length === 0) throw staging(`${stagingDir} holds no files`);
  if (files.includes(MANIFEST_FILE))
    throw staging('manifest.json is written by the registry; remove it from staging');
  const unsafe = files.filter((f) => !isSafeFilePath(f));
  if (unsafe.length > 0)
    throw staging(`unsafe file names (dotfiles, spaces, too deep): ${unsafe.join(', ')}`);
  const missing = requiredFiles.filter((f) => !files.includes(f));
  if (missing.length > 0) throw staging(`required files missing: ${missing.join(', ')}`);
  return files;
}

/**
 * Puts `files` of `stagingDir` into the not-yet-existing `tempDir` and returns their manifest entries.
 * `move` renames the whole staging directory (falling back to copy + delete across filesystems).
 */
export async function fillTempDir(
  stagingDir: string,
  tempDir: string,
  files: readonly string[],
  mode: StageMode,
): Promise<ManifestFile[]> {
  let copied = mode === 'copy';
  if (mode === 'move') {
    try {
      await rename(stagingDir, tempDir);
    } catch (thrown) {
      if (!isErrno(thrown, 'EXDEV')) throw thrown;
      copied = true;
    }
  }
  if (copied) await copyFiles(stagingDir, tempDir, files);
  const entries: ManifestFile[] = [];
  const dirs = new Set<string>([tempDir]);
  for (const path of files) {
    const absolute = join(tempDir, ...path.split('/'));
    await fsyncFile(absolute);
    const { sha256, bytes } = await hashFile(absolute);
    entries.push({ path, sha256, bytes });
    dirs.add(dirname(absolute));
  }
  for (const dir of dirs) await fsyncDir(dir);
  if (mode === 'move' && copied) await rm(stagingDir, { recursive: true, force: true });
  return entries;
}

/** Undoes a failed publish: a moved staging directory goes back where it was, a copy is deleted. */
export async function abandonTempDir(stagingDir: string, tempDir: string, mode: StageMode): Promise<void> {
  if (mode === 'move') {
    const stagingGone = await stat(stagingDir).then(
      () => false,
      () => true,
    );
    if (stagingGone) {
      await rename(tempDir, stagingDir).catch(() => undefined);
      await rm(join(stagingDir, MANIFEST_FILE), { force: true });
      return;
    }
  }
  await rm(tempDir, { recursive: true, force: true });
}

async function copyFiles(from: string, to: string, files: readonly string[]): Promise<void> {
  await mkdir(to);
  for (const path of files) {
    const target = join(to, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(from, ...path.split('/')), target);
  }
}

function staging(message: string): RegistryError {
  return new RegistryError('REGISTRY_STAGING_INVALID', message);
}
