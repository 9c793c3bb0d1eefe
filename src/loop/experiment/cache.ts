/** An arm's output kept as JSON under the work directory and reused when present (resumable runs). */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export async function cached<T>(path: string, make: () => Promise<T>): Promise<T> {
  if (existsSync(path)) return JSON.parse(await readFile(path, 'utf8')) as T;
  const value = await make();
  await writeFile(path, JSON.stringify(value));
  return value;
}
