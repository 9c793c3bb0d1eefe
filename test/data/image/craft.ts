/** Builders of small test images and DICOM objects in every layout the decoder accepts. */
import { deflateRawSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { type DicomElement, encodeElements, encodePart10 } from '../../../src/data/image/dicom-writer.ts';
import { encodeRleFrame } from '../../../src/data/image/rle.ts';
import { TS } from '../../../src/data/image/transfer-syntax.ts';
import { Rng } from '../../../src/data/random.ts';
import type { GrayImage } from '../../../src/data/types.ts';

/** A deterministic grey image with a gradient, a bright disc and noise: every level region differs. */
export function testGray(width: number, height: number, bitsStored: number, seed = 1): GrayImage {
  const rng = new Rng(seed);
  const max = 2 ** bitsStored - 1;
  const data = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc =
        (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 4) ** 2 ? 0.3 : 0;
      const v = 0.6 * (x / width) + 0.1 * (y / height) + disc + 0.05 * rng.next();
      data[y * width + x] = Math.min(max, Math.round(v * max));
    }
  }
  return { width, height, bitsStored, data };
}

export interface CraftOptions {
  rows: number;
  columns: number;
  /** Stored sample values (two's complement allowed when signed), row-major, interleaved for colour. */
  samples: ArrayLike<number>;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  photometric?: string;
  samplesPerPixel?: number;
  transferSyntax?: string;
  /** 'part10' (default), or a headless little-endian stream (no preamble, no meta) in implicit or explicit VR. */
  layout?: 'part10' | 'headless' | 'headless-explicit';
  /** Extra or overriding elements (same tag replaces). */
  extra?: DicomElement[];
  /** Drop Pixel Data entirely. */
  withoutPixelData?: boolean;
  /** Encapsulated fragments to use instead of encoding `samples`. */
  fragments?: Uint8Array[];
}

/** A DICOM object around the given samples, encoded per the transfer syntax (native, RLE or JPEG baseline). */
export function craftDicom(options: CraftOptions): Uint8Array {
  const bitsAllocated = options.bitsAllocated ?? 16;
  const bitsStored = options.bitsStored ?? bitsAllocated;
  const spp = options.samplesPerPixel ?? 1;
  const ts = options.transferSyntax ?? TS.explicitLittle;
  const elements = new Map<number, DicomElement>();
  const put = (e: DicomElement): void => {
    elements.set(e.tag, e);
  };
  put({ tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.1' });
  put({ tag: 0x00080018, vr: 'UI', value: '2.25.1' });
  put({ tag: 0x00080060, vr: 'CS', value: 'CR' });
  put({ tag: 0x00100010, vr: 'PN', value: 'Doe^Jane' });
  put({ tag: 0x00280002, vr: 'US', value: [spp] });
  put({ tag: 0x00280004, vr: 'CS', value: options.photometric ?? 'MONOCHROME2' });
  put({ tag: 0x00280010, vr: 'US', value: [options.rows] });
  put({ tag: 0x00280011, vr: 'US', value: [options.columns] });
  put({ tag: 0x00280100, vr: 'US', value: [bitsAllocated] });
  put({ tag: 0x00280101, vr: 'US', value: [bitsStored] });
  put({ tag: 0x00280102, vr: 'US', value: [bitsStored - 1] });
  put({ tag: 0x00280103, vr: 'US', value: [options.signed ? 1 : 0] });
  if (!options.withoutPixelData) put(pixelElement(options, bitsAllocated, spp, ts));
  for (const e of options.extra ?? []) put(e);
  const list = [...elements.values()];
  if (options.layout === 'headless') return encodeElements(list, { explicitVr: false, littleEndian: true });
  if (options.layout === 'headless-explicit')
    return encodeElements(list, { explicitVr: true, littleEndian: true });
  return encodePart10(list, {
    transferSyntax: ts,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.1',
    sopInstanceUid: '2.25.1',
    implementationClassUid: '2.25.2',
    implementationVersionName: 'TEST',
    encoding: { explicitVr: ts !== TS.implicitLittle, littleEndian: ts !== TS.explicitBig },
    transformDataSet: ts === TS.deflatedExplicitLittle ? (b) => deflateRawSync(b) : undefined,
  });
}

function pixelElement(options: CraftOptions, bitsAllocated: number, spp: number, ts: string): DicomElement {
  const count = options.rows * options.columns * spp;
  if (options.fragments)
    return { tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(0), fragments: options.fragments };
  const bytesPerSample = bitsAllocated / 8;
  const le = new Uint8Array(count * bytesPerSample);
  const view = new DataView(le.buffer);
  for (let i = 0; i < count; i++) {
    const v = options.samples[i] & (2 ** bitsAllocated - 1);
    if (bytesPerSample === 2) view.setUint16(i * 2, v, true);
    else le[i] = v;
  }
  if (ts === TS.rle) {
    const frame = encodeRleFrame(le, options.rows * options.columns, spp, bytesPerSample);
    return { tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(0), fragments: [frame] };
  }
  if (ts === TS.jpegBaseline) {
    const rgba = new Uint8Array(options.rows * options.columns * 4);
    for (let p = 0; p < options.rows * options.columns; p++) {
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = le[p * spp + (spp === 3 ? c : 0)];
      rgba[p * 4 + 3] = 255;
    }
    const encoded = jpeg.encode({ width: options.columns, height: options.rows, data: rgba }, 100).data;
    return { tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(0), fragments: [new Uint8Array(encoded)] };
  }
  if (bytesPerSample === 2) {
    const words = new Uint16Array(count);
    for (let i = 0; i < count; i++) words[i] = view.getUint16(i * 2, true);
    return { tag: 0x7fe00010, vr: 'OW', value: words };
  }
  return { tag: 0x7fe00010, vr: 'OB', value: le };
}

export function ds(tag: number, value: string): DicomElement {
  return { tag, vr: 'DS', value };
}

export function cs(tag: number, value: string): DicomElement {
  return { tag, vr: 'CS', value };
}

/** Max |a − b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
