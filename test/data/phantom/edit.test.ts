import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CaseEdit,
  editCase,
  findingRegion,
  renderCase,
  sampleCase,
} from '../../../src/data/phantom/index.ts';
import { FINDING_KEYS, type PhantomCase } from '../../../src/data/types.ts';

const SIZE = 128;

/** Pixels that differ, and whether all of them lie inside `box`. */
function diffInside(a: PhantomCase, b: PhantomCase, box: { x0: number; y0: number; x1: number; y1: number }) {
  const ia = renderCase(a, { size: SIZE }).data;
  const ib = renderCase(b, { size: SIZE }).data;
  let changed = 0;
  let outside = 0;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      if (ia[y * SIZE + x] === ib[y * SIZE + x]) continue;
      changed++;
      if (x < box.x0 || x >= box.x1 || y < box.y0 || y >= box.y1) outside++;
    }
  return { changed, outside };
}

function union(a: ReturnType<typeof findingRegion>, b: ReturnType<typeof findingRegion>) {
  return {
    x0: Math.min(a.x0, b.x0),
    y0: Math.min(a.y0, b.y0),
    x1: Math.max(a.x1, b.x1),
    y1: Math.max(a.y1, b.y1),
  };
}

test('adding or removing any finding changes pixels only inside its region', () => {
  for (const seed of [101, 202, 303]) {
    const c = sampleCase(seed);
    for (const finding of FINDING_KEYS) {
      const present = c.findings.find((f) => f.name === finding)!.present;
      const edited = editCase(c, { finding, change: present ? 'remove' : 'add' });
      const box = union(findingRegion(c, finding, SIZE), findingRegion(edited, finding, SIZE));
      const { changed, outside } = diffInside(c, edited, box);
      assert.ok(changed > 0, `seed ${seed} ${finding}: the edit is invisible`);
      assert.equal(
        outside,
        0,
        `seed ${seed} ${finding}: ${outside} of ${changed} changed pixels outside its region`,
      );
    }
  }
});

test('side and severity edits stay local and keep the patient', () => {
  const edits: CaseEdit[] = [
    { finding: 'pleural_effusion', change: { side: 'bilateral' } },
    { finding: 'pleural_effusion', change: { severity: 'severe' } },
    { finding: 'pneumothorax', change: { side: 'left' } },
    { finding: 'nodule', change: { severity: 'severe' } },
    { finding: 'cardiomegaly', change: { severity: 'severe' } },
  ];
  for (const edit of edits) {
    let c = sampleCase(404);
    c = editCase(c, { finding: edit.finding, change: 'add' });
    if (edit.finding === 'pneumothorax')
      c = editCase(c, { finding: 'pneumothorax', change: { side: 'right' } });
    if (edit.finding === 'pleural_effusion')
      c = editCase(c, { finding: 'pleural_effusion', change: { side: 'left' } });
    if ('severity' in (edit.change as object))
      c = editCase(c, { finding: edit.finding, change: { severity: 'mild' } });
    const edited = editCase(c, edit);
    assert.equal(edited.patient_id, c.patient_id);
    assert.notEqual(edited.id, c.id);
    const box = union(findingRegion(c, edit.finding, SIZE), findingRegion(edited, edit.finding, SIZE));
    const { changed, outside } = diffInside(c, edited, box);
    assert.ok(changed > 0, JSON.stringify(edit));
    assert.equal(outside, 0, JSON.stringify(edit));
  }
  const nodule = editCase(editCase(sampleCase(404), { finding: 'nodule', change: 'add' }), {
    finding: 'nodule',
    change: { severity: 'mild' },
  });
  assert.ok(nodule.findings.find((f) => f.name === 'nodule')!.size_mm! < 10);
  const big = editCase(sampleCase(404), { finding: 'cardiomegaly', change: 'add' });
  assert.ok(big.anatomy.ctr_pa > 0.5 && big.ctr > 0.5);
});

test('edits that make no sense are coded errors', () => {
  const c = editCase(sampleCase(5), { finding: 'edema', change: 'remove' });
  assert.throws(() => editCase(c, { finding: 'edema', change: { severity: 'mild' } }), {
    code: 'CHEXPO_ERR_PHANTOM_EDIT_NOT_APPLICABLE',
  });
  const withTube = editCase(c, { finding: 'endotracheal_tube', change: 'add' });
  assert.throws(() => editCase(withTube, { finding: 'endotracheal_tube', change: { side: 'left' } }), {
    code: 'CHEXPO_ERR_PHANTOM_EDIT_NOT_APPLICABLE',
  });
  assert.throws(() => editCase(c, { finding: 'fracture' as never, change: 'add' }), {
    code: 'CHEXPO_ERR_PHANTOM_EDIT_UNKNOWN_FINDING',
  });
});
