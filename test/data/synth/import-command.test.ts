import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImage } from '../../../src/data/image/index.ts';
import { importDataset } from '../../../src/data/import/index.ts';

const fixture = new URL('../../fixtures/chexpert/', import.meta.url).pathname;

test('chexpo import writes the synth layout from a CheXpert CSV, with hashed ids and readable images', async () => {
  const out = await mkdtemp(join(tmpdir(), 'chexpo-import-'));
  try {
    const summary = await importDataset({
      csvPath: join(fixture, 'valid.csv'),
      imageRoot: fixture,
      outDir: out,
      uncertain: 'ignore',
      seed: 1,
      salt: 'test',
    });
    const rows = [];
    for (const split of ['train', 'validation', 'test']) {
      const text = await readFile(join(out, 'cases', `${split}.jsonl`), 'utf8');
      rows.push(
        ...text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      );
    }
    assert.equal(rows.length, 3, 'the lateral view is left out; three frontal studies remain');
    assert.ok(Object.values(summary.samples).reduce((a, b) => a + b, 0) > 0);
    for (const row of rows) {
      assert.doesNotMatch(row.patient_id, /patient6454/, 'raw patient ids must not be stored');
      const image = decodeImage(new Uint8Array(await readFile(row.images.source)));
      assert.ok(image.width > 0 && image.pixels.length === image.width * image.height);
    }
    const tokenizer = JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8'));
    assert.ok(tokenizer);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
