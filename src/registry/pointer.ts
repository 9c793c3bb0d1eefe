/**
 * The CURRENT file: the current version id and a newline, nothing else, so an operator can read it with
 * `cat` and a shell script can follow it. Written only by temp-file + rename under the registry lock,
 * together with its history line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioCall, ioError, isErrno, RegistryError } from './errors.ts';
import { appendLine, writeFileAtomic } from './fs-atomic.ts';
import type { HistoryEntry } from './history.ts';
import { isVersionId } from './manifest.ts';

/** Who moves the pointer and why (stored in history.jsonl; the audit log is the server's). */
export interface PointerMove {
  reason: string;
  actor: string;
}

export function assertMove(move: PointerMove): void {
  const ok = typeof move?.reason === 'string' && move.reason !== '' && typeof move.actor === 'string';
  if (!ok || move.actor === '') {
    throw new RegistryError('REGISTRY_INVALID_ARGUMENT', 'a pointer move needs a non-empty reason and actor');
  }
}

/** The id in `<modelDir>/CURRENT`, null if absent, REGISTRY_CURRENT_INVALID if it is not an id. */
export async function readCurrentFile(modelDir: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(modelDir, 'CURRENT'), 'utf8');
  } catch (thrown) {
    if (isErrno(thrown, 'ENOENT')) return null;
    throw ioError('reading CURRENT', thrown);
  }
  const version = text.trim();
  if (!isVersionId(version)) {
    throw new RegistryError(
      'REGISTRY_CURRENT_INVALID',
      `CURRENT holds ${JSON.stringify(version.slice(0, 80))}`,
    );
  }
  return version;
}

/** Replaces CURRENT with `entry.to`, then appends the entry to history.jsonl. Call under the lock. */
export async function writePointer(modelDir: string, entry: HistoryEntry): Promise<void> {
  await ioCall('moving CURRENT', async () => {
    await writeFileAtomic(join(modelDir, 'CURRENT'), `${entry.to}\n`);
    await appendLine(join(modelDir, 'history.jsonl'), JSON.stringify(entry));
  });
}
