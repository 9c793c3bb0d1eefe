/**
 * An arm's outputs kept as JSON under the work directory and reused when present (resumable runs).
 * Every cached output lives under a directory named by the arm and a hash of everything that made
 * it (settings, budget, seed, evaluation subset): a re-run with other settings trains afresh
 * instead of reusing an arm made under different ones.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function cached<T>(path: string, make: () => Promise<T>): Promise<T> {
  if (existsSync(path)) return JSON.parse(await readFile(path, 'utf8')) as T;
  const value = await make();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(value));
  return value;
}

/** `<workDir>/<name>.<hash of settings>`, with the settings written beside for a reader. */
export async function keyedDir(workDir: string, name: string, settings: unknown): Promise<string> {
  const text = JSON.stringify(settings);
  const key = createHash('sha256').update(text).digest('hex').slice(0, 10);
  const dir = join(workDir, `${name}.${key}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  return dir;
}
