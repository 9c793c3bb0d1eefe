/**
 * safetensors: an 8-byte little-endian header length, a JSON header mapping tensor names to
 * { dtype, shape, data_offsets }, then the raw little-endian bytes. Only the dtypes chexpo uses.
 */
import { defineErrors } from '../errors/define.ts';

export type TensorDtype = 'F32' | 'F16' | 'I64';

export interface NamedTensor {
  dtype: TensorDtype;
  shape: number[];
  /** F32 as Float32Array; F16 as raw Uint16Array bits; I64 as BigInt64Array. */
  data: Float32Array | Uint16Array | BigInt64Array;
}

export class SafetensorsError extends defineErrors('SafetensorsError', {
  SAFETENSORS_INVALID: {
    when: 'A weights file that is not valid safetensors (short, bad header, bad dtype or offsets), or tensors whose bytes do not fit their shape: the file is damaged; republish the version.',
  },
}) {
  constructor(message: string) {
    super('SAFETENSORS_INVALID', message);
  }
}

const BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2, I64: 8 };

export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const size = t.data.byteLength;
    const expected = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    if (size !== expected)
      throw new SafetensorsError(`tensor ${name}: ${size} bytes for shape [${t.shape}] ${t.dtype}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so tensor data starts 8-byte aligned (typed-array views need it).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
} {
  if (bytes.length < 8) throw new SafetensorsError('file shorter than its 8-byte header length');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new SafetensorsError('header length exceeds the file size');
  let header: Record<string, { dtype: TensorDtype; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
  } catch {
    throw new SafetensorsError('header is not valid JSON');
  }
  const dataStart = 8 + headerLength;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    const valid =
      typeof entry === 'object' &&
      entry !== null &&
      entry.dtype in BYTES &&
      Array.isArray(entry.shape) &&
      Array.isArray(entry.data_offsets) &&
      entry.data_offsets.length === 2;
    const [begin, end] = valid ? entry.data_offsets : [0, -1];
    const count = valid ? entry.shape.reduce((a, b) => a * b, 1) : -1;
    if (!valid || end < begin || dataStart + end > bytes.length || end - begin !== count * BYTES[entry.dtype])
      throw new SafetensorsError(`tensor ${name} has an invalid dtype or offsets`);
    // Copy so the tensor is aligned and independent of the file buffer.
    const raw = bytes.slice(dataStart + begin, dataStart + end);
    const data =
      entry.dtype === 'F32'
        ? new Float32Array(raw.buffer)
        : entry.dtype === 'F16'
          ? new Uint16Array(raw.buffer)
          : new BigInt64Array(raw.buffer);
    tensors[name] = { dtype: entry.dtype, shape: entry.shape, data };
  }
  return { tensors, metadata };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE float32 → float16 bits, round to nearest even, with subnormals, infinities and NaN. */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    // A carry out of the mantissa correctly bumps the exponent (up to infinity).
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
    out[i] = sign | half;
  }
  return out;
}

export function fromFloat16Bits(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * 2 ** -14 * (mant / 1024);
    else if (exp === 0x1f) out[i] = mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[i] = sign * 2 ** (exp - 15) * (1 + mant / 1024);
  }
  return out;
}

/** Absolute byte range of every tensor's data in a safetensors file (for ONNX external data). */
export function tensorByteRanges(bytes: Uint8Array): Record<string, { offset: number; length: number }> {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8')) as Record<
    string,
    { data_offsets?: [number, number] }
  >;
  const ranges: Record<string, { offset: number; length: number }> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || !entry.data_offsets) continue;
    const [begin, end] = entry.data_offsets;
    ranges[name] = { offset: 8 + headerLength + begin, length: end - begin };
  }
  return ranges;
}
