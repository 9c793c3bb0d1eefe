import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/data/random.ts';
import { keepRowsTrimmed, trimLeft } from '../../src/engine/merge.ts';
import { type DecodeBatch, keepRows } from '../../src/inference/generate.ts';
import { ortTensor } from '../../src/model/ort/session.ts';

/** 4 rows, 2 heads, 6 columns, head dim 3; row r is left-padded by `pads[r]` columns. */
function batch(pads: number[]): DecodeBatch {
  const [b, h, t, hd, vocab] = [pads.length, 2, 6, 3, 5];
  const rng = new Rng(7);
  const cache = () => Float32Array.from({ length: b * h * t * hd }, () => rng.next());
  const mask = new Uint8Array(b * t);
  pads.forEach((pad, r) => {
    mask.fill(1, r * t + pad, (r + 1) * t);
  });
  return {
    rows: pads.map((_, r) => ({ request: r, promptLength: 3, maxTokens: 9, ids: [1], tokens: [] })),
    past: {
      'past.0.key': ortTensor('float32', cache(), [b, h, t, hd]),
      'past.0.value': ortTensor('float32', cache(), [b, h, t, hd]),
    },
    mask,
    total: t,
    logits: Float32Array.from({ length: b * vocab }, () => rng.next()),
  };
}

const plain = (x: DecodeBatch) => ({
  rows: x.rows.map((r) => r.request),
  total: x.total,
  mask: [...x.mask],
  logits: [...x.logits],
  past: Object.fromEntries(
    Object.entries(x.past).map(([k, t]) => [k, [t.dims, [...(t.data as Float32Array)]]]),
  ),
});

test('keeping rows and trimming their padding in one copy equals trimLeft(keepRows(…))', () => {
  const b = batch([0, 2, 3, 1]);
  for (const keep of [[1, 2], [2], [0, 3], [1, 2, 3], [0, 1, 2, 3]]) {
    const one = keepRowsTrimmed(b, keep);
    assert.deepEqual(plain(one), plain(trimLeft(keepRows(b, keep))), `keep ${keep}`);
  }
  assert.equal(keepRowsTrimmed(b, [1, 2]).total, 4, 'rows padded by 2 and 3 columns: 2 columns go');
});
