/**
 * Joining a freshly prefilled batch to one already decoding (iteration-level batching). The two
 * have different sequence lengths T_a, T_b; both are left-padded to T = max(T_a, T_b): the KV cache
 * (B, h, T, hd) gets zero keys/values in front and the mask (B, T) zeros there, so padded positions
 * get no attention weight. Position ids are per row (promptLength + generated), so padding never
 * shifts them: a merged row decodes exactly as it would alone (up to float rounding).
 */

import type { DecodeBatch } from '../inference/generate.ts';
import { type Feeds, ortTensor } from '../model/ort/session.ts';

/** (B, h, T, hd) data → (B, h, total, hd), new positions in front. */
function leftPadCache(data: Float32Array, dims: readonly number[], total: number): Float32Array {
  const [b, h, t, hd] = dims;
  if (t === total) return data;
  const out = new Float32Array(b * h * total * hd);
  const shift = (total - t) * hd;
  for (let bh = 0; bh < b * h; bh++)
    out.set(data.subarray(bh * t * hd, (bh + 1) * t * hd), bh * total * hd + shift);
  return out;
}

function leftPadMask(mask: Uint8Array, rows: number, t: number, total: number): Uint8Array {
  if (t === total) return mask;
  const out = new Uint8Array(rows * total);
  for (let r = 0; r < rows; r++) out.set(mask.subarray(r * t, (r + 1) * t), r * total + total - t);
  return out;
}

export function mergeBatches(a: DecodeBatch, b: DecodeBatch): DecodeBatch {
  const total = Math.max(a.total, b.total);
  const past: Feeds = {};
  for (const name of Object.keys(a.past)) {
    const ta = a.past[name];
    const tb = b.past[name];
    const pa = leftPadCache(ta.data as Float32Array, ta.dims, total);
    const pb = leftPadCache(tb.data as Float32Array, tb.dims, total);
    const joined = new Float32Array(pa.length + pb.length);
    joined.set(pa);
    joined.set(pb, pa.length);
    const [, h, , hd] = ta.dims;
    past[name] = ortTensor('float32', joined, [a.rows.length + b.rows.length, h, total, hd]);
  }
  const ma = leftPadMask(a.mask, a.rows.length, a.total, total);
  const mb = leftPadMask(b.mask, b.rows.length, b.total, total);
  const mask = new Uint8Array(ma.length + mb.length);
  mask.set(ma);
  mask.set(mb, ma.length);
  const logits = new Float32Array(a.logits.length + b.logits.length);
  logits.set(a.logits);
  logits.set(b.logits, a.logits.length);
  return { rows: [...a.rows, ...b.rows], past, mask, total, logits };
}

/**
 * Drops the leading columns no row attends to (left padding left behind by rows that finished), so
 * the batch's sequence length follows its longest live row instead of growing with every join.
 */
export function trimLeft(batch: DecodeBatch): DecodeBatch {
  const { rows, total } = batch;
  let cut = total;
  for (let r = 0; r < rows.length && cut > 0; r++) {
    const first = batch.mask.subarray(r * total, (r + 1) * total).indexOf(1);
    cut = Math.min(cut, first < 0 ? total : first);
  }
  if (cut === 0 || cut === total) return batch;
  const kept = total - cut;
  const mask = new Uint8Array(rows.length * kept);
  for (let r = 0; r < rows.length; r++)
    mask.set(batch.mask.subarray(r * total + cut, (r + 1) * total), r * kept);
  const past: Feeds = {};
  for (const [name, t] of Object.entries(batch.past)) {
    const [b, h, , hd] = t.dims;
    const data = t.data as Float32Array;
    const out = new Float32Array(b * h * kept * hd);
    for (let bh = 0; bh < b * h; bh++)
      out.set(data.subarray((bh * total + cut) * hd, (bh + 1) * total * hd), bh * kept * hd);
    past[name] = ortTensor('float32', out, [b, h, kept, hd]);
  }
  return { ...batch, past, mask, total: kept };
}

/**
 * trimLeft(keepRows(batch, keep)) in one copy: rows `keep` (ascending tensor indices) and only the
 * columns some kept row attends to. Used whenever rows leave (finished or cancelled).
 */
export function keepRowsTrimmed(batch: DecodeBatch, keep: readonly number[]): DecodeBatch {
  const { total } = batch;
  const b = batch.rows.length;
  let cut = total;
  for (const r of keep) {
    const first = batch.mask.subarray(r * total, (r + 1) * total).indexOf(1);
    cut = Math.min(cut, first < 0 ? total : first);
  }
  if (cut === total) cut = 0;
  if (cut === 0 && keep.length === b) return batch;
  const kept = total - cut;
  const mask = new Uint8Array(keep.length * kept);
  keep.forEach((r, i) => {
    mask.set(batch.mask.subarray(r * total + cut, (r + 1) * total), i * kept);
  });
  const past: Feeds = {};
  for (const [name, t] of Object.entries(batch.past)) {
    const [, h, , hd] = t.dims;
    const data = t.data as Float32Array;
    const out = new Float32Array(keep.length * h * kept * hd);
    keep.forEach((r, i) => {
      for (let head = 0; head < h; head++) {
        const from = (r * h + head) * total;
        out.set(data.subarray((from + cut) * hd, (from + total) * hd), (i * h + head) * kept * hd);
      }
    });
    past[name] = ortTensor('float32', out, [keep.length, h, kept, hd]);
  }
  const vocab = batch.logits.length / b;
  const logits = new Float32Array(keep.length * vocab);
  keep.forEach((r, i) => {
    logits.set(batch.logits.subarray(r * vocab, (r + 1) * vocab), i * vocab);
  });
  return { rows: keep.map((r) => batch.rows[r]), past, mask, total: kept, logits };
}
