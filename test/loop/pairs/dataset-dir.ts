/** A tiny on-disk data set (synth layout) of rendered phantom cases, for resolver and export tests. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng16 } from '../../../src/data/image/index.ts';
import { renderCase } from '../../../src/data/phantom/index.ts';
import { type PhantomDataCase, phantomCase } from './fixtures.ts';

export const RENDER_SIZE = 64;

export async function writeDataset(seeds: number[]): Promise<{ dir: string; cases: PhantomDataCase[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-pairs-'));
  await mkdir(join(dir, 'cases'), { recursive: true });
  await mkdir(join(dir, 'images'), { recursive: true });
  const cases = seeds.map(phantomCase);
  for (const c of cases)
    await writeFile(join(dir, c.images.png16!), encodePng16(renderCase(c, { size: RENDER_SIZE })));
  await writeFile(join(dir, 'cases', 'train.jsonl'), cases.map((c) => `${JSON.stringify(c)}\n`).join(''));
  await writeFile(
    join(dir, 'manifest.json'),
    JSON.stringify({ size: RENDER_SIZE, phantomConfig: 'default' }),
  );
  return { dir, cases };
}
