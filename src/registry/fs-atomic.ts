/**
 * Filesystem primitives the registry's guarantees rest on: streaming sha256, fsync of files and
 * directories, write-temp-then-rename, and an exclusive lock file. Everything a reader may see is either
 * the old state or the new one; a crash leaves at most a dot-prefixed temp entry that readers ignore.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno, RegistryError } from './errors.ts';

/** sha256 (lower-case hex) and byte count of one file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Flushes a file's data and metadata to stable storage. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a directory's entries (a rename is durable only after this); a no-op where unsupported. */
export async function fsyncDir(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (thrown) {
    if (!isErrno(thrown, 'EISDIR', 'EPERM', 'EINVAL', 'EBADF')) throw thrown;
  } finally {
    await handle?.close();
  }
}

/** A unique dot-prefixed sibling name for temporaries (unique across hosts sharing a volume). */
export function tempSibling(path: string, label: string): string {
  return join(dirname(path), `.tmp-${label}-${randomUUID()}`);
}

/** Replaces `path` with `data` atomically: readers see the old or the new content, never a mix. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temp = tempSibling(path, 'write');
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (thrown) {
    await rm(temp, { force: true });
    throw thrown;
  }
  await fsyncDir(dirname(path));
}

/** Appends one line with a single O_APPEND write (lines from concurrent writers do not interleave locally). */
export async function appendLine(path: string, line: string): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(`${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Relative POSIX paths of every regular file under `dir`, sorted. Symlinks and special files are refused:
 * a version must hold its own bytes, not point at something that can change under it.
 */
export async function listRegularFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(absolute: string, relative: string): Promise<void> {
    for (const entry of await readdir(absolute, { withFileTypes: true })) {
      const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(join(absolute, entry.name), rel);
      else if (entry.isFile()) out.push(rel);
      else throw new RegistryError('REGISTRY_STAGING_INVALID', `${rel} is not a regular file or directory`);
    }
  }
  await walk(dir, '');
  return out.sort();
}

export interface LockOptions {
  /** Give up (REGISTRY_LOCK_TIMEOUT) after this long. */
  timeoutMs: number;
  /** A lock file older than this is from a crashed writer and is broken. */
  staleMs: number;
}

/**
 * Runs `fn` while holding `lockPath`, created with O_EXCL (atomic on local filesystems and NFSv3+).
 * Used only around short metadata steps (claim a version id, move CURRENT, append history), never
 * around hashing, so `staleMs` can stay small.
 */
export async function withLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  // The nonce makes the content unique to this holder, so release can tell its lock from a successor's.
  const owner = JSON.stringify({
    host: hostname(),
    pid: process.pid,
    at: new Date().toISOString(),
    nonce: randomUUID(),
  });
  let delayMs = 2;
  for (;;) {
    try {
      await writeFile(lockPath, owner, { flag: 'wx' });
      break;
    } catch (thrown) {
      if (!isErrno(thrown, 'EEXIST')) throw thrown;
    }
    if (await breakIfStale(lockPath, options.staleMs)) continue;
    if (Date.now() >= deadline) {
      throw new RegistryError(
        'REGISTRY_LOCK_TIMEOUT',
        `could not take ${lockPath} within ${options.timeoutMs} ms`,
      );
    }
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 20);
  }
  try {
    return await fn();
  } finally {
    // Remove only our own lock: if it was broken as stale and another writer holds the path now,
    // deleting it would let a third writer in beside that one.
    const current = await readFile(lockPath, 'utf8').catch(() => undefined);
    if (current === owner) await rm(lockPath, { force: true });
  }
}

/**
 * Moves `path` aside when `isStale(content, mtimeMs)` says so (rename is atomic, so only one breaker
 * wins) and removes it. If what was moved is not what was judged (another breaker replaced it and a
 * new owner took it in between), the fresh file is put back with link(), which fails rather than
 * overwrite a newer one. Returns whether the path is free now (moved, or already gone).
 */
export async function breakIf(
  path: string,
  isStale: (content: string, mtimeMs: number) => boolean,
): Promise<boolean> {
  try {
    const judged = await readFile(path, 'utf8');
    const info = await stat(path);
    if (!isStale(judged, info.mtimeMs)) return false;
    const aside = tempSibling(path, 'stale-lock');
    await rename(path, aside);
    if ((await readFile(aside, 'utf8')) !== judged) await link(aside, path).catch(() => undefined);
    await rm(aside, { force: true });
    return true;
  } catch (thrown) {
    if (isErrno(thrown, 'ENOENT')) return true;
    throw thrown;
  }
}

function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  return breakIf(lockPath, (_content, mtimeMs) => Date.now() - mtimeMs >= staleMs);
}
