import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { decodeImage, encodePng16, grayToDecoded, toModelInput } from '../../../src/data/image/index.ts';
import { findingRegion, renderCase } from '../../../src/data/phantom/index.ts';
import { ImageResolver } from '../../../src/loop/pairs/index.ts';
import { loadCaseImage } from '../../../src/model/train/dataset.ts';
import { RENDER_SIZE, writeDataset } from './dataset-dir.ts';

const data = await writeDataset([2001, 2002, 2003, 2004]);
after(() => rm(data.dir, { recursive: true, force: true }));

test('a case reference resolves exactly as training loads the case image, and is cached', async () => {
  const resolver = new ImageResolver({ dataDir: data.dir, imageSize: 32 });
  const c = data.cases[0];
  const input = await resolver.resolve({ kind: 'case', case_id: c.id });
  assert.deepEqual(input, await loadCaseImage(data.dir, c, 32));
  assert.equal(await resolver.resolve({ case_id: c.id, kind: 'case' }), input, 'same array from the cache');
});

test('a phantom edit differs from the original only inside the finding region', async () => {
  const resolver = new ImageResolver({ dataDir: data.dir, imageSize: RENDER_SIZE });
  let checked = 0;
  for (const c of data.cases) {
    const present = c.findings.find((f) => f.present);
    const absent = c.findings.find((f) => !f.present && f.name !== 'cardiomegaly');
    for (const edit of [
      ...(present ? [{ finding: present.name, change: 'remove' as const }] : []),
      ...(absent ? [{ finding: absent.name, change: 'add' as const }] : []),
    ]) {
      const original = await resolver.resolve({ kind: 'case', case_id: c.id });
      const edited = await resolver.resolve({ kind: 'phantom_edit', case_id: c.id, edit });
      const box = findingRegion(c, edit.finding, RENDER_SIZE);
      let inside = 0;
      for (let y = 0; y < RENDER_SIZE; y++)
        for (let x = 0; x < RENDER_SIZE; x++) {
          const i = y * RENDER_SIZE + x;
          const within = x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1;
          if (!within)
            assert.equal(edited[i], original[i], `${c.id} ${edit.finding} (${x}, ${y}) outside the region`);
          else if (edited[i] !== original[i]) inside++;
        }
      assert.ok(inside > 0, `${c.id}: editing ${edit.finding} changes pixels`);
      checked++;
    }
  }
  assert.ok(checked >= 4);
});

test('png16 bytes decode to the same model input the resolver serves', async () => {
  const resolver = new ImageResolver({ dataDir: data.dir, imageSize: 32 });
  const c = data.cases[1];
  const edit = { finding: c.findings.find((f) => !f.present)!.name, change: 'add' as const };
  for (const ref of [
    { kind: 'case' as const, case_id: c.id },
    { kind: 'phantom_edit' as const, case_id: c.id, edit },
  ]) {
    const png = await resolver.png16(ref);
    assert.deepEqual(toModelInput(decodeImage(png), 32), await resolver.resolve(ref));
  }
});

test('hard examples come from the store; unknown references fail with a coded error', async () => {
  const image = encodePng16(renderCase(data.cases[2], { size: RENDER_SIZE }));
  const store = {
    getImages: async (ids: readonly string[]) =>
      new Map(ids.filter((id) => id === 'h1').map((id) => [id, image])),
  };
  const resolver = new ImageResolver({ dataDir: data.dir, imageSize: 32, store });
  const expected = toModelInput(grayToDecoded(renderCase(data.cases[2], { size: RENDER_SIZE })), 32);
  assert.deepEqual(await resolver.resolve({ kind: 'hard_example', id: 'h1' }), expected);
  await assert.rejects(resolver.resolve({ kind: 'hard_example', id: 'missing' }), {
    code: 'PAIRS_UNRESOLVED_IMAGE',
  });
  await assert.rejects(resolver.resolve({ kind: 'case', case_id: 'nope' }), {
    code: 'PAIRS_UNRESOLVED_IMAGE',
  });
  const bare = new ImageResolver({
    dataDir: data.dir,
    imageSize: 32,
    cases: [{ id: 'imported', findings: [], images: { png16: data.cases[0].images.png16 } }],
  });
  await assert.rejects(
    bare.resolve({ kind: 'phantom_edit', case_id: 'imported', edit: { finding: 'nodule', change: 'add' } }),
    { code: 'PAIRS_NOT_A_PHANTOM' },
  );
});
