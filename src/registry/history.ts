/**
 * `history.jsonl`: one JSON line per move of the CURRENT pointer, appended under the registry lock so
 * the lines form one chain (each `from` is the previous line's `to`).
 *
 * Rollback decision: the history is replayed as a stack, like a browser's back button. `set` pushes the
 * new version; `rollback` pops. Rolling back twice after v1 → v2 → v3 lands on v1 (not back on v3), and
 * a rollback with nothing below the top falls back to the current version's `parent` (e.g. a fresh
 * deployment whose history starts at the bundled release's child); with neither, REGISTRY_NO_PREVIOUS.
 */
import { readFile } from 'node:fs/promises';
import { isErrno } from './errors.ts';
import { isVersionId } from './manifest.ts';

export type PointerAction = 'set' | 'rollback';

export interface HistoryEntry {
  /** ISO-8601 UTC instant of the move. */
  at: string;
  action: PointerAction;
  /** The version CURRENT named before the move, or null if there was none. */
  from: string | null;
  to: string;
  reason: string;
  actor: string;
  host: string;
  pid: number;
}

/** Reads every well-formed entry; a torn last line (crash mid-append on a network volume) is skipped. */
export async function readHistory(path: string): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (thrown) {
    if (isErrno(thrown, 'ENOENT')) return [];
    throw thrown;
  }
  const entries: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = parseEntry(line);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseEntry(line: string): HistoryEntry | null {
  try {
    const e = JSON.parse(line) as Partial<HistoryEntry>;
    const actionOk = e.action === 'set' || e.action === 'rollback';
    const fromOk = e.from === null || (typeof e.from === 'string' && isVersionId(e.from));
    if (!actionOk || !fromOk || typeof e.to !== 'string' || !isVersionId(e.to)) return null;
    return e as HistoryEntry;
  } catch {
    return null;
  }
}

/**
 * The version a rollback from `current` returns to, by the stack rule above, or null when the history
 * holds nothing below it. Replay: `set` pushes (unless already on top); `rollback` pops down to its
 * target (a target not on the stack, i.e. a parent fallback, leaves it as the only entry). If CURRENT
 * was edited by hand (history's last `to` is not `current`), `current` is treated as pushed on top.
 */
export function previousFromHistory(entries: readonly HistoryEntry[], current: string): string | null {
  const stack: string[] = [];
  for (const entry of entries) {
    if (entry.action === 'set') {
      if (stack.at(-1) !== entry.to) stack.push(entry.to);
      continue;
    }
    while (stack.length > 0 && stack.at(-1) !== entry.to) stack.pop();
    if (stack.length === 0) stack.push(entry.to);
  }
  if (stack.at(-1) !== current) stack.push(current);
  return stack.at(-2) ?? null;
}
