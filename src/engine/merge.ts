/**
 * Joining a freshly prefilled batch to one already decoding (iteration-level batching). The two
 * have different sequence lengths T_a, T_b; both are left-padded to T = max(T_a, T_b): the KV cache
 * (B, h, T, hd) gets zero keys/values in front and the mask (B, T) zeros there, so padded positions
 * get no attention weight. Position ids are per row (promptLength + generated), so padding never
 * shifts them: a merged row decodes exactly as it would alone (up to float rounding).
 */
import { type Feeds, ortTensor } from '../model/ort/session.ts';
import type { DecodeBatch } from '../model/vlm/generate.ts';

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
