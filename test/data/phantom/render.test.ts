import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editCase, heartShape, lateralX, renderCase, sampleCase } from '../../../src/data/phantom/index.ts';
import type { FindingKey, PhantomCase } from '../../../src/data/types.ts';
import { meanOver, present, sampler } from './helpers.ts';

/** The seed's patient with no findings. */
function normalCase(seed: number): PhantomCase {
  let c = sampleCase(seed);
  for (const name of present(c)) c = editCase(c, { finding: name as FindingKey, change: 'remove' });
  return c;
}

test('same case and size give the same bytes; another seed gives another image', () => {
  const c = sampleCase(7);
  const a = renderCase(c, { size: 128 });
  const b = renderCase(sampleCase(7), { size: 128 });
  assert.equal(a.bitsStored, 12);
  assert.equal(a.data.length, 128 * 128);
  assert.deepEqual(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer));
  const other = renderCase(sampleCase(8), { size: 128 });
  assert.notDeepEqual(Buffer.from(a.data.buffer), Buffer.from(other.data.buffer));
  assert.ok(Math.max(...a.data) < 4096);
  assert.throws(() => renderCase(c, { size: 3 }), { code: 'CHEXPO_ERR_PHANTOM_RENDER_SIZE' });
});

test('lungs are dark, mediastinum and abdomen bright, outside the body darkest (MONOCHROME2)', () => {
  for (const seed of [1, 2, 3]) {
    const c = normalCase(seed);
    const at = sampler(c, renderCase(c, { size: 256 }));
    const a = c.anatomy;
    const y = (a.apex_y_mm + a.dome_right_y_mm) / 2;
    const lung = meanOver(at, {
      x0: -0.7 * lateralX(a, -1, y),
      y0: y - 10,
      x1: -0.55 * lateralX(a, -1, y),
      y1: y + 10,
    });
    const mediastinum = meanOver(at, { x0: -5, y0: a.carina_y_mm + 40, x1: 5, y1: a.carina_y_mm + 60 });
    const abdomen = meanOver(at, { x0: -60, y0: a.dome_left_y_mm + 60, x1: -40, y1: a.dome_left_y_mm + 70 });
    assert.ok(mediastinum > lung + 800, `mediastinum ${mediastinum} vs lung ${lung}`);
    assert.ok(abdomen > lung + 800, `abdomen ${abdomen} vs lung ${lung}`);
    assert.ok(at(-212, 420) < lung, 'corner outside the body');
  }
});

test('costophrenic region brightens with effusion severity (same patient)', () => {
  const base = normalCase(11);
  const a = base.anatomy;
  const hw = a.thorax_width_mm / 2;
  const cpa = a.dome_right_y_mm + a.cpa_depth_mm;
  const region = { x0: -(hw - 4), y0: cpa - 110, x1: -0.7 * hw, y1: cpa - 4 };
  const means = [undefined, 'mild', 'moderate', 'severe'].map((severity) => {
    let c = base;
    if (severity) {
      c = editCase(c, { finding: 'pleural_effusion', change: 'add' });
      c = editCase(c, { finding: 'pleural_effusion', change: { side: 'right' } });
      c = editCase(c, { finding: 'pleural_effusion', change: { severity: severity as 'mild' } });
    }
    return meanOver(sampler(c, renderCase(c, { size: 256 })), region);
  });
  for (let k = 1; k < means.length; k++) assert.ok(means[k] > means[k - 1] + 20, `means ${means.join(', ')}`);
});

/**
 * Heart and thorax widths measured on the pixels along the patient's rows: from the darkest lung
 * point of each row, walk inwards to the heart border and outwards to the chest wall, each edge
 * where the profile crosses halfway between the lung and the tissue beyond it.
 */
function measuredCtr(c: PhantomCase): number {
  const at = sampler(c, renderCase(c, { size: 512 }));
  const a = c.anatomy;
  const h = heartShape(a);
  const hw = a.thorax_width_mm / 2;
  const profile = (x: number, y: number) => (at(x, y - 2) + at(x, y) + at(x, y + 2)) / 3;
  const crossing = (y: number, from: number, to: number): number => {
    const threshold = (profile(from, y) + profile(to, y)) / 2;
    const step = Math.sign(to - from) * 0.5;
    for (let x = from; Math.abs(x - to) > 0.5; x += step) if (profile(x, y) > threshold) return Math.abs(x);
    return Math.abs(to);
  };
  const sideWidths = (sgn: number, y: number): { heart: number; wall: number } => {
    let darkest = sgn * 0.5 * hw;
    for (let x = 0.3 * hw; x < hw - 2; x += 1)
      if (profile(sgn * x, y) < profile(darkest, y)) darkest = sgn * x;
    return { heart: crossing(y, darkest, 0), wall: crossing(y, darkest, sgn * (hw + 16)) };
  };
  const right = sideWidths(-1, h.rightRow);
  const left = sideWidths(1, h.leftRow);
  return (right.heart + left.heart) / (right.wall + left.wall);
}

test('heart width / thorax width measured on the image tracks the labelled CTR', () => {
  const pairs: [number, number][] = [];
  for (let seed = 21; seed < 35; seed++) {
    let c = normalCase(seed);
    if (seed % 2 === 0) {
      c = editCase(c, { finding: 'cardiomegaly', change: 'add' });
      c = editCase(c, {
        finding: 'cardiomegaly',
        change: { severity: seed % 4 === 0 ? 'mild' : 'moderate' },
      });
    }
    pairs.push([c.ctr, measuredCtr(c)]);
  }
  const errors = pairs.map(([l, m]) => Math.abs(l - m));
  assert.ok(Math.max(...errors) < 0.03, `errors ${errors.map((e) => e.toFixed(3)).join(' ')}`);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const lx = pairs.map((p) => p[0]);
  const mx = pairs.map((p) => p[1]);
  const ml = mean(lx);
  const mm = mean(mx);
  const cov = mean(pairs.map(([l, m]) => (l - ml) * (m - mm)));
  const r = cov / Math.sqrt(mean(lx.map((l) => (l - ml) ** 2)) * mean(mx.map((m) => (m - mm) ** 2)));
  assert.ok(r > 0.95, `correlation ${r}`);
});

test('a pneumothorax darkens the apex of its side and leaves the other side alone', () => {
  for (const seed of [5, 6]) {
    for (const side of ['left', 'right'] as const) {
      const base = normalCase(seed);
      let c = editCase(base, { finding: 'pneumothorax', change: 'add' });
      c = editCase(c, { finding: 'pneumothorax', change: { side } });
      c = editCase(c, { finding: 'pneumothorax', change: { severity: 'moderate' } });
      const a = base.anatomy;
      const hw = a.thorax_width_mm / 2;
      const sgn = side === 'left' ? 1 : -1;
      const apex = (s: number) => ({
        x0: Math.min(s * 0.35 * hw, s * 0.55 * hw),
        y0: a.apex_y_mm + 2,
        x1: Math.max(s * 0.35 * hw, s * 0.55 * hw),
        y1: a.apex_y_mm + 12,
      });
      const before = sampler(base, renderCase(base, { size: 256 }));
      const after = sampler(c, renderCase(c, { size: 256 }));
      assert.ok(meanOver(after, apex(sgn)) < meanOver(before, apex(sgn)) - 30, `seed ${seed} ${side}`);
      assert.equal(meanOver(after, apex(-sgn)), meanOver(before, apex(-sgn)));
    }
  }
});
