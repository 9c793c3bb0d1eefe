import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeImage } from '../../../src/data/image/index.ts';
import {
  exportTrl,
  formatPairSummary,
  fromPreferencePair,
  ImageResolver,
  pairsForAll,
  summarizePairs,
  type TrlRow,
  toPreferencePairs,
} from '../../../src/loop/pairs/index.ts';
import { RENDER_SIZE, writeDataset } from './dataset-dir.ts';
import { samplesOf, selected } from './fixtures.ts';

const data = await writeDataset([3001, 3002, 3003]);
after(() => rm(data.dir, { recursive: true, force: true }));
const candidates = pairsForAll(
  data.cases.flatMap((c) => samplesOf(c).map((s) => selected(c, s))),
  { seed: 4, maxPerSample: 3 },
);

test('store rows round-trip, with stable ids and both image references', () => {
  assert.ok(candidates.some((c) => c.kind === 'image_counterfactual'));
  const rows = toPreferencePairs(candidates, 2, 'run-a');
  assert.deepEqual(toPreferencePairs(candidates, 2, 'run-a'), rows);
  assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
  assert.notEqual(toPreferencePairs(candidates, 2, 'run-b')[0].id, rows[0].id);
  for (const r of rows) assert.equal(r.round, 2);
  assert.deepEqual(rows.map(fromPreferencePair), candidates);
  assert.throws(() => fromPreferencePair({ ...rows[0], image_ref: '{"kind":"nope"}' }), {
    code: 'PAIRS_BAD_ROW',
  });
  assert.throws(() => fromPreferencePair({ ...rows[0], provenance: '{' }), { code: 'PAIRS_BAD_ROW' });
});

test('TRL export writes parseable rows whose images exist and decode', async () => {
  const out = join(data.dir, 'trl');
  const resolver = new ImageResolver({ dataDir: data.dir, imageSize: 32 });
  const result = await exportTrl(out, candidates, resolver);
  const rows = (await readFile(result.path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TrlRow);
  assert.equal(rows.length, candidates.length);
  assert.ok(existsSync(join(out, 'README.md')));
  for (const [i, row] of rows.entries()) {
    const c = candidates[i];
    assert.equal(row.prompt[0].content[0].type, 'image');
    assert.equal(row.prompt[0].content[1].text, c.prompt);
    assert.equal(row.chosen[0].content[0].text, c.chosen);
    assert.equal(row.rejected[0].content[0].text, c.rejected);
    assert.equal(row.kind, c.kind);
    assert.equal(row.weight, c.weight);
    assert.equal(row.rejected_images !== undefined, c.kind === 'image_counterfactual');
    for (const path of [...row.images, ...(row.rejected_images ?? [])]) {
      const img = decodeImage(new Uint8Array(await readFile(join(out, path))));
      assert.equal(img.width, RENDER_SIZE);
    }
    if (row.rejected_images) assert.notEqual(row.rejected_images[0], row.images[0]);
  }
});

test('summary counts pairs by kind and by finding/task', () => {
  const s = summarizePairs(candidates);
  assert.equal(s.total, candidates.length);
  assert.equal(
    Object.values(s.byKind).reduce((a, b) => a + b, 0),
    candidates.length,
  );
  assert.equal(
    Object.values(s.byCell).reduce((a, b) => a + b, 0),
    candidates.length,
  );
  const text = formatPairSummary(s);
  assert.match(text, new RegExp(`pairs: ${candidates.length} from ${s.samples} samples`));
  assert.match(text, /negation\s+\d+/);
  assert.match(text, /none\/report\s+\d+/);
});
