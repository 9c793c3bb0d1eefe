/**
 * Renders docs/images/phantom-grid.png: one phantom per finding (its most typical case), a few subtle
 * cases and a normal one, and prints the matching markdown table of labels for docs/data.md.
 * Usage: node --import tsx scripts/data-grid.ts [--size 256] [--out docs/images/phantom-grid.png]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { editCase, renderCase, sampleCase } from '../src/data/phantom/index.ts';
import {
  FINDING_KEYS,
  type Finding,
  type FindingKey,
  type GrayImage,
  type PhantomCase,
} from '../src/data/types.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    out: { type: 'string', default: 'docs/images/phantom-grid.png' },
  },
});
const size = Number(values.size);

/** First seed from `start` whose case satisfies `accept` (deterministic, so the grid is reproducible). */
function findCase(accept: (c: PhantomCase) => boolean, start: number): PhantomCase {
  for (let seed = start; seed < start + 200000; seed++) {
    const c = sampleCase(seed);
    if (accept(c)) return c;
  }
  throw new Error('no case found');
}

const present = (c: PhantomCase): Finding[] => c.findings.filter((f) => f.present);
const only = (key: FindingKey, extra?: (f: Finding) => boolean) => (c: PhantomCase) => {
  const p = present(c);
  return p.length === 1 && p[0].name === key && (extra?.(p[0]) ?? true);
};

const tiles: Array<{ title: string; c: PhantomCase }> = [];
tiles.push({ title: 'normal', c: findCase((c) => present(c).length === 0, 1) });
for (const key of FINDING_KEYS) {
  const isolated = findCase(
    only(key, (f) => f.severity !== 'mild'),
    1000,
  );
  tiles.push({ title: key, c: isolated });
}
tiles.push({
  title: 'subtle: small effusion',
  c: findCase(
    only('pleural_effusion', (f) => f.severity === 'mild'),
    5000,
  ),
});
tiles.push({
  title: 'subtle: small pneumothorax',
  c: findCase(
    only('pneumothorax', (f) => f.severity === 'mild'),
    5000,
  ),
});
tiles.push({
  title: 'subtle: small nodule',
  c: findCase(
    only('nodule', (f) => (f.size_mm ?? 99) <= 8),
    5000,
  ),
});
const base = findCase(
  (c) => present(c).some((f) => f.name === 'cardiomegaly') && present(c).length >= 3,
  9000,
);
tiles.push({ title: 'co-occurring findings', c: base });
tiles.push({
  title: 'same patient, effusion removed (counterfactual)',
  c: editCase(tiles.find((t) => t.title === 'pleural_effusion')!.c, {
    finding: 'pleural_effusion',
    change: 'remove',
  }),
});

const columns = 4;
const rows = Math.ceil(tiles.length / columns);
const gap = 4;
const grid = new PNG({ width: columns * (size + gap) - gap, height: rows * (size + gap) - gap });
grid.data.fill(255);
tiles.forEach((tile, i) => {
  const img: GrayImage = renderCase(tile.c, { size });
  const max = 2 ** img.bitsStored - 1;
  const ox = (i % columns) * (size + gap);
  const oy = Math.floor(i / columns) * (size + gap);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const v = Math.round((255 * img.data[y * img.width + x]) / max);
      const o = ((oy + y) * grid.width + ox + x) * 4;
      grid.data[o] = grid.data[o + 1] = grid.data[o + 2] = v;
      grid.data[o + 3] = 255;
    }
});
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, PNG.sync.write(grid));

const describe = (f: Finding): string =>
  [f.name, f.side, f.zone, f.severity, f.size_mm ? `${f.size_mm} mm` : undefined, f.tip]
    .filter(Boolean)
    .join(' ');
console.log('| tile | title | seed | view | CTR | present findings |\n|---|---|---|---|---|---|');
tiles.forEach((t, i) => {
  const row = Math.floor(i / columns) + 1;
  const col = (i % columns) + 1;
  const findings = present(t.c).map(describe).join('; ') || 'none';
  console.log(
    `| r${row}c${col} | ${t.title} | ${t.c.seed} | ${t.c.view} | ${t.c.ctr.toFixed(2)} | ${findings} |`,
  );
});
