/**
 * The labelled pool the loop mines when no data set is configured (`npm start` on a fresh clone):
 * a phantom data set synthesised once, with a fixed seed different from the bundled release's
 * training seed, and reused by every later run.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { synthesize } from '../data/synth/run.ts';
import { formatSummary } from '../data/synth/summary.ts';

export const LOOP_DATA_DEFAULTS = { cases: 1500, seed: 20261127, size: 128 } as const;

export async function ensureLoopData(dir: string, log: (line: string) => void): Promise<string> {
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  log(`synthesising the loop's phantom pool (${LOOP_DATA_DEFAULTS.cases} cases) into ${dir}…`);
  await rm(dir, { recursive: true, force: true });
  const { summary } = await synthesize({
    cases: LOOP_DATA_DEFAULTS.cases,
    seed: LOOP_DATA_DEFAULTS.seed,
    size: LOOP_DATA_DEFAULTS.size,
    formats: ['png16'],
    outDir: dir,
  });
  log(formatSummary(summary));
  return dir;
}
