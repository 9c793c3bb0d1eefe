/**
 * Renders docs/images/phantom-grid.png: one phantom per finding (its most typical case), a few subtle
 * cases and a normal one, each captioned with its title and present findings, and prints the matching markdown table of labels for docs/data.md.
 * Usage: node --import tsx scripts/data-grid.ts [--size 256] [--out docs/images/phantom-grid.png]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { FINDING_KEYS, type Finding, type FindingKey, type PhantomCase } from '../src/data/index.ts';
import { editCase, renderCase, sampleCase } from '../src/data/phantom/index.ts';
import { captionedGrid } from '../src/plots/index.ts';
import { fmt, markdownRow } from './bench/stats.ts';

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

const describe = (f: Finding): string =>
  [f.name, f.side, f.zone, f.severity, f.size_mm ? `${f.size_mm} mm` : undefined, f.tip]
    .filter(Boolean)
    .join(' ');
const columns = 4;
const { png } = await captionedGrid(
  tiles.map((tile) => ({
    image: renderCase(tile.c, { size }),
    caption: [tile.title, ...present(tile.c).map(describe)].concat(
      present(tile.c).length ? [] : ['no finding'],
    ),
  })),
  { columns },
);
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, png);

console.log('| tile | title | seed | view | CTR | present findings |\n|---|---|---|---|---|---|');
tiles.forEach((t, i) => {
  const row = Math.floor(i / columns) + 1;
  const col = (i % columns) + 1;
  const findings = present(t.c).map(describe).join('; ') || 'none';
  console.log(markdownRow([`r${row}c${col}`, t.title, t.c.seed, t.c.view, fmt(t.c.ctr, 2), findings]));
});
