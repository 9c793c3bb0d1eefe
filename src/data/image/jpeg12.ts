/**
 * 12-bit JPEG Extended (ISO 10918-1 process 4: sequential DCT, Huffman, 12-bit samples), the
 * lossy syntax of DICOM 1.2.840.10008.1.2.4.51 that no maintained npm decoder reads (libjpeg-turbo's
 * WASM build and jpeg-js are 8-bit). Single-component (grey) frames only, which is what the DICOM
 * 12-bit JPEG files are; restart intervals supported. Float IDCT, level shift 2^(P−1), clamp to
 * [0, 2^P − 1]. Anything else (progressive, arithmetic, colour) is reported, never guessed.
 */
import { ImageError } from './errors.ts';

const ZIGZAG = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

/** IDCT basis: COS[x * 8 + u] = C(u) / 2 · cos((2x + 1) u π / 16). */
const COS = (() => {
  const t = new Float64Array(64);
  for (let x = 0; x < 8; x++) {
    for (let u = 0; u < 8; u++)
      t[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return t;
})();

interface Huffman {
  /** Largest code of each length 1..16 (−1 when none), first symbol index per length, symbols. */
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  symbols: Uint8Array;
}

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Huffman {
  const maxCode = new Int32Array(17).fill(-1);
  const minCode = new Int32Array(17);
  const valPtr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    valPtr[length] = k;
    minCode[length] = code;
    code += counts[length - 1];
    k += counts[length - 1];
    maxCode[length] = counts[length - 1] > 0 ? code - 1 : -1;
    code <<= 1;
  }
  return { maxCode, valPtr, minCode, symbols };
}

const fail = (why: string): never => {
  throw new ImageError('IMAGE_UNDECODABLE', `12-bit JPEG could not be decoded: ${why}`);
};

class BitReader {
  private bits = 0;
  private count = 0;
  /** A marker was met: from here on the stream yields zeros. */
  marker = -1;
  /** The data ended without a marker: the file is truncated. */
  truncated = false;

  private readonly data: Uint8Array;
  public pos: number;
  constructor(data: Uint8Array, pos: number) {
    this.data = data;
    this.pos = pos;
  }

  bit(): number {
    if (this.count === 0) this.fill();
    this.count--;
    return (this.bits >> this.count) & 1;
  }

  receive(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }

  private fill(): void {
    if (this.marker >= 0 || this.pos >= this.data.length) {
      if (this.marker < 0) this.truncated = true;
      this.bits = 0;
      this.count = 8;
      return;
    }
    const b = this.data[this.pos++];
    if (b === 0xff) {
      const next = this.data[this.pos];
      if (next === 0x00) this.pos++;
      else {
        this.marker = next;
        this.pos--;
        this.bits = 0;
        this.count = 8;
        return;
      }
    }
    this.bits = b;
    this.count = 8;
  }

  /** At a restart: drop the partial byte and step over the RSTn marker. */
  restart(): void {
    this.count = 0;
    this.bits = 0;
    if (this.marker >= 0xd0 && this.marker <= 0xd7) {
      this.pos += 2;
      this.marker = -1;
      return;
    }
    while (
      this.pos + 1 < this.data.length &&
      !(this.data[this.pos] === 0xff && this.data[this.pos + 1] >= 0xd0 && this.data[this.pos + 1] <= 0xd7)
    )
      this.pos++;
    this.pos += 2;
    this.marker = -1;
  }
}

function decodeSymbol(reader: BitReader, h: Huffman): number {
  let code = reader.bit();
  for (let length = 1; length <= 16; length++) {
    if (h.maxCode[length] >= 0 && code <= h.maxCode[length]) {
      return h.symbols[h.valPtr[length] + code - h.minCode[length]];
    }
    code = (code << 1) | reader.bit();
  }
  return fail('bad Huffman code');
}

const extend = (v: number, s: number): number => (s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v);

export interface Jpeg12Frame {
  width: number;
  height: number;
  precision: number;
  samples: Uint16Array;
}

export function decodeJpeg12(data: Uint8Array): Jpeg12Frame {
  const u16 = (at: number): number => (data[at] << 8) | data[at + 1];
  if (u16(0) !== 0xffd8) fail('no SOI marker');
  const quant = new Map<number, Int32Array>();
  const dc = new Map<number, Huffman>();
  const ac = new Map<number, Huffman>();
  let frame: { width: number; height: number; precision: number; id: number; tq: number } | undefined;
  let restartInterval = 0;
  let pos = 2;
  while (pos + 4 <= data.length) {
    if (data[pos] !== 0xff) fail(`expected a marker at byte ${pos}`);
    const marker = data[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const length = u16(pos + 2);
    const body = pos + 4;
    const end = pos + 2 + length;
    if (end > data.length) fail('truncated marker segment');
    if (marker === 0xdb) {
      for (let p = body; p < end; ) {
        const pq = data[p] >> 4;
        const tq = data[p] & 15;
        const table = new Int32Array(64);
        for (let k = 0; k < 64; k++) table[k] = pq ? u16(p + 1 + 2 * k) : data[p + 1 + k];
        quant.set(tq, table);
        p += 1 + 64 * (pq ? 2 : 1);
      }
    } else if (marker === 0xc4) {
      for (let p = body; p < end; ) {
        const tc = data[p] >> 4;
        const th = data[p] & 15;
        const counts = data.subarray(p + 1, p + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        const table = buildHuffman(counts, data.subarray(p + 17, p + 17 + total));
        (tc === 0 ? dc : ac).set(th, table);
        p += 17 + total;
      }
    } else if (marker === 0xdd) {
      restartInterval = u16(body);
    } else if (marker === 0xc0 || marker === 0xc1) {
      const components = data[body + 5];
      if (components !== 1) fail(`${components}-component 12-bit JPEG (only grey is read)`);
      frame = {
        precision: data[body],
        height: u16(body + 1),
        width: u16(body + 3),
        id: data[body + 6],
        tq: data[body + 8],
      };
    } else if (
      (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xc3
    ) {
      fail(`SOF marker 0x${marker.toString(16)} (progressive, lossless, hierarchical or arithmetic)`);
    } else if (marker === 0xda) {
      if (!frame) fail('scan before frame header');
      const tables = data[body + 2];
      return decodeScan(
        data,
        end,
        frame!,
        quant.get(frame!.tq),
        dc.get(tables >> 4),
        ac.get(tables & 15),
        restartInterval,
      );
    } else if (marker === 0xd9) {
      break;
    }
    pos = end;
  }
  return fail('no scan');
}

function decodeScan(
  data: Uint8Array,
  start: number,
  frame: { width: number; height: number; precision: number },
  q: Int32Array | undefined,
  dcTable: Huffman | undefined,
  acTable: Huffman | undefined,
  restartInterval: number,
): Jpeg12Frame {
  if (!q || !dcTable || !acTable) return fail('missing quantisation or Huffman table');
  const { width, height, precision } = frame;
  if (!(width > 0 && height > 0)) fail('zero dimensions');
  const blocksX = Math.ceil(width / 8);
  const blocksY = Math.ceil(height / 8);
  const samples = new Uint16Array(width * height);
  const reader = new BitReader(data, start);
  const coef = new Float64Array(64);
  const tmp = new Float64Array(64);
  const shift = 2 ** (precision - 1);
  const max = 2 ** precision - 1;
  let pred = 0;
  for (let b = 0; b < blocksX * blocksY; b++) {
    if (restartInterval > 0 && b > 0 && b % restartInterval === 0) {
      reader.restart();
      pred = 0;
    }
    // Stop at once on truncation: a tiny file declaring a huge frame must not decode zeros for long.
    if (reader.truncated) fail('the scan data ends before the image does (truncated file?)');
    coef.fill(0);
    const t = decodeSymbol(reader, dcTable);
    pred += extend(reader.receive(t), t);
    coef[0] = pred * q[0];
    for (let k = 1; k < 64; ) {
      const rs = decodeSymbol(reader, acTable);
      const r = rs >> 4;
      const s = rs & 15;
      if (s === 0) {
        if (r !== 15) break;
        k += 16;
        continue;
      }
      k += r;
      if (k > 63) fail('AC coefficients run past the block');
      coef[ZIGZAG[k]] = extend(reader.receive(s), s) * q[k];
      k++;
    }
    // Separable IDCT: rows (over u) then columns (over v).
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        let sum = 0;
        for (let u = 0; u < 8; u++) sum += COS[x * 8 + u] * coef[y * 8 + u];
        tmp[y * 8 + x] = sum;
      }
    }
    const bx = (b % blocksX) * 8;
    const by = Math.floor(b / blocksX) * 8;
    for (let x = 0; x < 8; x++) {
      if (bx + x >= width) continue;
      for (let y = 0; y < 8; y++) {
        if (by + y >= height) break;
        let sum = 0;
        for (let v = 0; v < 8; v++) sum += COS[y * 8 + v] * tmp[v * 8 + x];
        const value = Math.round(sum + shift);
        samples[(by + y) * width + bx + x] = Math.max(0, Math.min(max, value));
      }
    }
  }
  if (reader.truncated) fail('the scan data ends before the image does (truncated file?)');
  return { width, height, precision, samples };
}
