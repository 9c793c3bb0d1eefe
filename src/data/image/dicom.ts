import { inflateRawSync } from 'node:zlib';
import type { DataSet, Element } from 'dicom-parser';
import type { View } from '../types.ts';
import {
  type CodecFrame,
  decodeHtj2k,
  decodeJpeg8,
  decodeJpeg2000,
  decodeJpegLossless,
  decodeJpegLs,
} from './codecs.ts';
import { type DecodedImage, luminance, meanChroma } from './decoded-image.ts';
import { cleanString, type DicomLayout, dicomParser, parseDicomBytes } from './dicom-parse.ts';
import { ImageError, undecodableOnThrow } from './errors.ts';
import { readJpegFrameHeader } from './jpeg.ts';
import { decodeJpeg12 } from './jpeg12.ts';
import { checkDimensions, type DecodeLimits } from './limits.ts';
import { decodeRleFrame } from './rle.ts';
import {
  type PixelEncoding,
  pixelEncodingOf,
  SUPPORTED_SYNTAXES_TEXT,
  TS,
  transferSyntaxName,
} from './transfer-syntax.ts';
import { FALLBACK_PERCENTILES, type VoiFunction, type Window, windowValue } from './voi.ts';

interface PixelModule {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  planar: boolean;
  frames: number;
}

/** One frame's samples, interleaved, in a typed array; stored bits at [shift, shift + bitsStored). */
interface FrameSamples {
  values: Uint8Array | Uint16Array | Int16Array;
  /** Right shift that brings the stored bits down (native pixel data with HighBit above BitsStored − 1). */
  shift: number;
}

export interface DicomDecodeOptions {
  /** 0-based frame to decode; default `defaultFrameIndex(frames)` (the first). */
  frame?: number;
  /**
   * The model input side the image is decoded for. A grey film at least 16× larger is reduced while
   * its stored values go through the lookup table, by an integer box factor that keeps ≥ 8× the
   * input side (`reductionFactor`); `meta.sourceWidth/Height` keep the file's size. Absent: full size.
   */
  reduceFor?: number;
}

/**
 * Box factor for a `width`×`height` film decoded for a `target`-pixel input: the largest k ≤
 * max(width, height) / (8 · target) that divides the width, the height and the letterbox offset
 * (max − min) / 2, so the k×k blocks tile the padded square exactly and toModelInput sees the same
 * geometry at 1/k the pixels; 1 (full size) when the film is under 16× the input or no such k exists.
 */
export function reductionFactor(width: number, height: number, target: number | undefined): number {
  if (target === undefined || !(target >= 1)) return 1;
  const limit = Math.floor(Math.max(width, height) / (8 * target));
  const offset = Math.floor((Math.max(width, height) - Math.min(width, height)) / 2);
  for (let k = limit; k >= 2; k--) {
    if (width % k === 0 && height % k === 0 && offset % k === 0) return k;
  }
  return 1;
}

/**
 * The frame a multi-frame file is read at: the first (frame number 1). Projection radiographs are
 * single-frame; the multi-frame ones (dual-energy, stitched, tomosynthesis) put the standard
 * image first, and other multi-frame modalities are refused by the input gate anyway.
 */
export function defaultFrameIndex(_frames: number): number {
  return 0;
}

const GRAY = new Set(['MONOCHROME1', 'MONOCHROME2']);
const COLOR_NATIVE = new Set(['RGB', 'YBR_FULL']);
const COLOR_COMPRESSED = new Set([
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_ICT',
  'YBR_RCT',
  'YBR_PARTIAL_420',
]);

/**
 * Decodes one frame (the first unless `options.frame`) of a single- or multi-frame DICOM image to
 * display intensities: stored bits → Modality LUT (slope/intercept) → VOI (first window, else a
 * 0.5–99.5 percentile stretch) → inversion for MONOCHROME1 or Presentation LUT Shape INVERSE, as one
 * lookup table over the stored values. Colour images become luma.
 */
export function decodeDicom(
  bytes: Uint8Array,
  layout: DicomLayout,
  limits: DecodeLimits,
  options: DicomDecodeOptions = {},
): DecodedImage {
  const { dataSet, transferSyntax } = parseDicomBytes(bytes, layout, limits);
  const pixelData = dataSet.elements['x7fe00010'];
  const rows = dataSet.uint16('x00280010');
  const columns = dataSet.uint16('x00280011');
  if (!pixelData || rows === undefined || columns === undefined) {
    const sopClass = cleanString(dataSet.string('x00080016')) ?? 'unknown';
    throw new ImageError(
      'DICOM_NOT_IMAGE',
      `DICOM object has no pixel data (SOP class ${sopClass}); send an image object such as CR or DX`,
    );
  }
  checkDimensions(columns, rows, limits, 'DICOM (0028,0010/0011)');
  const encoding = pixelEncodingOf(transferSyntax);
  if (!encoding) {
    throw new ImageError(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      `DICOM transfer syntax ${transferSyntax} (${transferSyntaxName(transferSyntax)}) is not supported; ` +
        `supported: ${SUPPORTED_SYNTAXES_TEXT}; or send a PNG or JPEG`,
    );
  }
  const module = readPixelModule(dataSet, rows, columns);
  const frameIndex = options.frame ?? defaultFrameIndex(module.frames);
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= module.frames) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `DICOM frame ${frameIndex + 1} does not exist (${module.frames} frames)`,
    );
  }
  const samples = readFrame(dataSet, pixelData, module, encoding, transferSyntax, frameIndex, limits);
  const gray = GRAY.has(module.photometric);
  const k = gray ? reductionFactor(columns, rows, options.reduceFor) : 1;
  const pixels = gray ? grayIntensities(dataSet, module, samples, k) : undefined;
  const color = gray ? undefined : colorIntensities(module, samples, encoding);
  const viewPosition = definedTerm(dataSet.string('x00185101'));
  return {
    width: Math.ceil(columns / k),
    height: Math.ceil(rows / k),
    pixels: pixels ?? color!.pixels,
    format: 'dicom',
    meta: {
      modality: definedTerm(dataSet.string('x00080060')),
      photometric: module.photometric,
      bitsStored: module.bitsStored,
      transferSyntax,
      view: viewPosition === 'PA' || viewPosition === 'AP' ? (viewPosition as View) : undefined,
      ...(viewPosition ? { viewPosition } : {}),
      ...(definedTerm(dataSet.string('x00180015'))
        ? { bodyPart: definedTerm(dataSet.string('x00180015')) }
        : {}),
      frames: module.frames,
      frame: frameIndex + 1,
      chroma: color?.chroma ?? 0,
      ...(k > 1 ? { sourceWidth: columns, sourceHeight: rows } : {}),
    },
  };
}

/**
 * A coded string (CS) such as Modality, ViewPosition or BodyPartExamined, upper-cased; anything that
 * is not a defined-term shape (≤ 16 of A–Z, 0–9, space, _) is dropped so free text never leaves.
 */
function definedTerm(value: string | undefined): string | undefined {
  const cleaned = cleanString(value)?.toUpperCase();
  return cleaned && /^[A-Z0-9_ ]{1,16}$/.test(cleaned) ? cleaned : undefined;
}

function readPixelModule(dataSet: DataSet, rows: number, columns: number): PixelModule {
  const samplesPerPixel = dataSet.uint16('x00280002') ?? 1;
  const photometric = cleanString(dataSet.string('x00280004')) ?? 'MONOCHROME2';
  const bitsAllocated = dataSet.uint16('x00280100') ?? 16;
  const bitsStored = dataSet.uint16('x00280101') ?? bitsAllocated;
  const highBit = dataSet.uint16('x00280102') ?? bitsStored - 1;
  const frames = dataSet.intString('x00280008');
  const module: PixelModule = {
    rows,
    columns,
    samplesPerPixel,
    photometric,
    bitsAllocated,
    bitsStored,
    highBit,
    signed: dataSet.uint16('x00280103') === 1,
    planar: dataSet.uint16('x00280006') === 1,
    frames: frames !== undefined && Number.isFinite(frames) && frames > 0 ? frames : 1,
  };
  const gray = GRAY.has(photometric) && samplesPerPixel === 1;
  const color = COLOR_COMPRESSED.has(photometric) && samplesPerPixel === 3;
  if (!gray && !color) {
    throw new ImageError(
      'UNSUPPORTED_IMAGE_FORMAT',
      `DICOM photometric interpretation ${photometric} with ${samplesPerPixel} samples per pixel is not ` +
        'supported; send MONOCHROME1/MONOCHROME2 grayscale (or RGB)',
    );
  }
  if (bitsAllocated !== 1 && bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new ImageError(
      'UNSUPPORTED_IMAGE_FORMAT',
      `DICOM BitsAllocated ${bitsAllocated} is not supported (1, 8 or 16)`,
    );
  }
  if (bitsAllocated === 1 && !gray) {
    throw new ImageError('UNSUPPORTED_IMAGE_FORMAT', 'DICOM BitsAllocated 1 is only read for grayscale');
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `DICOM bit layout is inconsistent: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`,
    );
  }
  return module;
}

function readFrame(
  dataSet: DataSet,
  pixelData: Element,
  module: PixelModule,
  encoding: PixelEncoding,
  transferSyntax: string,
  frameIndex: number,
  limits: DecodeLimits,
): FrameSamples {
  const pixelCount = module.rows * module.columns;
  const bytesPerSample = module.bitsAllocated / 8;
  const channels = module.samplesPerPixel;
  if (module.bitsAllocated === 1) return bitFrame(dataSet, pixelData, module, encoding, frameIndex);
  if (encoding === 'deflated-frame') {
    const frame = inflateFrame(
      encapsulatedFrame(dataSet, pixelData, module.frames, frameIndex, encoding),
      pixelCount * channels * bytesPerSample,
    );
    const planar =
      channels === 3 && module.planar ? interleavePlanes(frame, pixelCount, bytesPerSample) : frame;
    const shift = module.highBit + 1 - module.bitsStored;
    return { values: bytesPerSample === 1 ? planar : uint16Samples(planar, true), shift };
  }
  if (encoding === 'native') {
    if (pixelData.encapsulatedPixelData) {
      throw new ImageError(
        'IMAGE_UNDECODABLE',
        'DICOM pixel data is encapsulated but the syntax is uncompressed',
      );
    }
    if (!COLOR_NATIVE.has(module.photometric) && channels === 3) {
      throw new ImageError(
        'UNSUPPORTED_IMAGE_FORMAT',
        `uncompressed ${module.photometric} DICOM is not supported`,
      );
    }
    const frameBytes = pixelCount * channels * bytesPerSample;
    const start = pixelData.dataOffset + frameIndex * frameBytes;
    const available = Math.min(pixelData.length, dataSet.byteArray.length - pixelData.dataOffset);
    if (!(available >= (frameIndex + 1) * frameBytes)) {
      throw new ImageError(
        'IMAGE_UNDECODABLE',
        `DICOM pixel data holds ${Math.max(0, available)} bytes but frame ${frameIndex + 1} of ` +
          `${module.rows}×${module.columns} pixels needs ${(frameIndex + 1) * frameBytes} (truncated file?)`,
      );
    }
    let bytes = dataSet.byteArray.subarray(start, start + frameBytes);
    if (channels === 3 && module.planar) bytes = interleavePlanes(bytes, pixelCount, bytesPerSample);
    const shift = module.highBit + 1 - module.bitsStored;
    if (bytesPerSample === 1) return { values: bytes, shift };
    return { values: uint16Samples(bytes, transferSyntax !== TS.explicitBig), shift };
  }
  const frame = encapsulatedFrame(dataSet, pixelData, module.frames, frameIndex, encoding);
  if (encoding === 'rle') {
    const le = decodeRleFrame(frame, pixelCount, channels, bytesPerSample);
    const shift = module.highBit + 1 - module.bitsStored;
    return { values: bytesPerSample === 1 ? le : uint16Samples(le, true), shift };
  }
  const decoded = decodeCompressedFrame(frame, encoding, module, limits);
  if (decoded.width !== module.columns || decoded.height !== module.rows) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `DICOM ${encoding} frame is ${decoded.width}×${decoded.height} but Rows/Columns say ${module.columns}×${module.rows}`,
    );
  }
  // A grey image saved as a 3-component JPEG (some encoders do): its channels are equal; keep one.
  if (channels === 1 && decoded.components === 3) {
    decoded.samples = decoded.samples.filter((_, i) => i % 3 === 0);
    decoded.components = 1;
  }
  if (decoded.components !== channels) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `DICOM ${encoding} frame has ${decoded.components} components but SamplesPerPixel is ${channels}`,
    );
  }
  return { values: decoded.samples, shift: 0 };
}

/** One frame of Deflated Image Frame Compression (PS3.5 A.4.11): the frame's native bytes, raw deflate. */
function inflateFrame(frame: Uint8Array, expected: number): Uint8Array {
  let out: Uint8Array;
  try {
    out = inflateRawSync(frame, { maxOutputLength: expected + 1 });
  } catch (thrown) {
    if (thrown instanceof RangeError) {
      throw new ImageError('IMAGE_UNDECODABLE', 'deflated DICOM frame inflates beyond its declared size');
    }
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `deflated DICOM frame is corrupt: ${(thrown as Error).message}`,
    );
  }
  if (out.length < expected) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `deflated DICOM frame holds ${out.length} bytes, ${expected} needed`,
    );
  }
  return out.subarray(0, expected);
}

/**
 * BitsAllocated 1 (segmentations, overlays stored as images): bits packed little-endian, least
 * significant bit first, frames back to back without padding. Codes 0/1 (bitsStored 1).
 */
function bitFrame(
  dataSet: DataSet,
  pixelData: Element,
  module: PixelModule,
  encoding: PixelEncoding,
  frameIndex: number,
): FrameSamples {
  const pixelCount = module.rows * module.columns;
  let bits: Uint8Array;
  let firstBit = 0;
  if (encoding === 'native') {
    const startBit = frameIndex * pixelCount;
    const start = pixelData.dataOffset + Math.floor(startBit / 8);
    const length = Math.ceil(((startBit % 8) + pixelCount) / 8);
    const available = Math.min(pixelData.length, dataSet.byteArray.length - pixelData.dataOffset);
    if (Math.floor(startBit / 8) + length > available) {
      throw new ImageError(
        'IMAGE_UNDECODABLE',
        `DICOM 1-bit pixel data is too short for frame ${frameIndex + 1}`,
      );
    }
    bits = dataSet.byteArray.subarray(start, start + length);
    firstBit = startBit % 8;
  } else if (encoding === 'deflated-frame') {
    bits = inflateFrame(
      encapsulatedFrame(dataSet, pixelData, module.frames, frameIndex, encoding),
      Math.ceil(pixelCount / 8),
    );
  } else {
    throw new ImageError(
      'UNSUPPORTED_IMAGE_FORMAT',
      `DICOM BitsAllocated 1 is not read with ${encoding} compression`,
    );
  }
  const values = new Uint8Array(pixelCount);
  for (let i = 0; i < pixelCount; i++) {
    const bit = firstBit + i;
    values[i] = (bits[bit >> 3] >> (bit & 7)) & 1;
  }
  return { values, shift: 0 };
}

function decodeCompressedFrame(
  frame: Uint8Array,
  encoding: Exclude<PixelEncoding, 'native' | 'rle' | 'deflated-frame'>,
  module: PixelModule,
  limits: DecodeLimits,
): CodecFrame {
  switch (encoding) {
    case 'jpeg-ls':
      return decodeJpegLs(frame);
    case 'jpeg2000':
      return decodeJpeg2000(frame);
    case 'htj2k':
      return decodeHtj2k(frame);
    case 'jpeg-lossless':
      return decodeJpegLossless(frame, module.bitsAllocated > 8 ? 2 : 1);
    case 'jpeg-dct': {
      const header = readJpegFrameHeader(frame);
      if (!header)
        throw new ImageError('IMAGE_UNDECODABLE', 'DICOM JPEG frame has no frame header (truncated?)');
      checkDimensions(header.width, header.height, limits, 'DICOM JPEG frame');
      // Lossless SOF3 inside a .50/.51 file happens in the wild; read it as what it is.
      if (header.marker === 0xc3) return decodeJpegLossless(frame, module.bitsAllocated > 8 ? 2 : 1);
      if (
        header.precision === 12 &&
        header.components === 1 &&
        (header.marker === 0xc1 || header.marker === 0xc0)
      ) {
        const jpeg = decodeJpeg12(frame);
        return {
          width: jpeg.width,
          height: jpeg.height,
          components: 1,
          bitsPerSample: 12,
          signed: false,
          samples: jpeg.samples,
        };
      }
      if (header.precision !== 8) {
        throw new ImageError(
          'UNSUPPORTED_TRANSFER_SYNTAX',
          `DICOM JPEG frame uses ${header.precision}-bit DCT precision with ${header.components} components, ` +
            `which this server cannot decode (8-bit, or 12-bit grey sequential); supported: ${SUPPORTED_SYNTAXES_TEXT}; ` +
            're-export the file losslessly (e.g. JPEG Lossless .70 or JPEG 2000) or send a PNG',
        );
      }
      if (header.marker !== 0xc0 && header.marker !== 0xc1 && header.marker !== 0xc2) {
        throw new ImageError(
          'UNSUPPORTED_TRANSFER_SYNTAX',
          `DICOM JPEG frame uses SOF marker 0x${header.marker.toString(16)} (arithmetic or hierarchical coding), ` +
            `which this server cannot decode; supported: ${SUPPORTED_SYNTAXES_TEXT}`,
        );
      }
      return decodeJpeg8(frame);
    }
  }
}

/** 16-bit samples of a little- (or big-) endian byte run, as an aligned Uint16Array. */
function uint16Samples(bytes: Uint8Array, littleEndian: boolean): Uint16Array {
  const count = bytes.length >> 1;
  if (littleEndian && bytes.byteOffset % 2 === 0)
    return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Uint16Array(count);
  if (littleEndian) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, count * 2));
    return out;
  }
  for (let i = 0, p = 0; i < count; i++, p += 2) out[i] = (bytes[p] << 8) | bytes[p + 1];
  return out;
}

/** Start fragments of each frame, found by codestream start markers (JPEG SOI, J2K SOC). */
function frameStartFragments(dataSet: DataSet, pixelData: Element): number[] {
  const starts: number[] = [];
  (pixelData.fragments ?? []).forEach((fragment, index) => {
    const at = pixelData.dataOffset + fragment.offset + 8;
    const b = dataSet.byteArray;
    // JPEG / JPEG-LS / JPEG lossless start with SOI FFD8; JPEG 2000 and HTJ2K codestreams with SOC FF4F.
    if (b[at] === 0xff && (b[at + 1] === 0xd8 || b[at + 1] === 0x4f)) starts.push(index);
  });
  return starts;
}

function encapsulatedFrame(
  dataSet: DataSet,
  pixelData: Element,
  frames: number,
  frameIndex: number,
  encoding: PixelEncoding,
): Uint8Array {
  const fragments = pixelData.fragments ?? [];
  if (!pixelData.encapsulatedPixelData || fragments.length === 0) {
    throw new ImageError('IMAGE_UNDECODABLE', 'compressed DICOM has no encapsulated pixel fragments');
  }
  return undecodableOnThrow('DICOM encapsulated pixel data', () => {
    if (frames === 1) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, pixelData, 0, fragments.length);
    }
    if (pixelData.basicOffsetTable?.length)
      return dicomParser.readEncapsulatedImageFrame(dataSet, pixelData, frameIndex);
    // Without an offset table: one fragment per frame, or frames found by their start markers.
    if (encoding === 'rle' || fragments.length === frames) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, pixelData, frameIndex, 1);
    }
    const starts = frameStartFragments(dataSet, pixelData);
    if (starts.length !== frames) {
      throw new ImageError(
        'IMAGE_UNDECODABLE',
        `compressed DICOM declares ${frames} frames but ${starts.length} codestreams were found and there is no offset table`,
      );
    }
    const first = starts[frameIndex];
    const next = frameIndex + 1 < starts.length ? starts[frameIndex + 1] : fragments.length;
    return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, pixelData, first, next - first);
  });
}

function interleavePlanes(planes: Uint8Array, pixelCount: number, bytesPerSample: number): Uint8Array {
  const out = new Uint8Array(planes.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < pixelCount; i++) {
      for (let b = 0; b < bytesPerSample; b++) {
        out[(i * 3 + c) * bytesPerSample + b] = planes[(c * pixelCount + i) * bytesPerSample + b];
      }
    }
  }
  return out;
}

/** Modality value of each stored code 0 … 2^bitsStored − 1 (two's complement when signed). */
function modalityValues(module: PixelModule, slope: number, intercept: number): Float64Array {
  const size = 2 ** module.bitsStored;
  const signBit = size / 2;
  const out = new Float64Array(size);
  for (let u = 0; u < size; u++) out[u] = (module.signed && u >= signBit ? u - size : u) * slope + intercept;
  return out;
}

function grayIntensities(
  dataSet: DataSet,
  module: PixelModule,
  samples: FrameSamples,
  reduce: number,
): Float32Array {
  const { values, shift } = samples;
  const mask = 2 ** module.bitsStored - 1;
  const n = module.rows * module.columns;
  const slope = finiteOr(dataSet.floatString('x00281053'), 1);
  const intercept = finiteOr(dataSet.floatString('x00281052'), 0);
  const modality = modalityValues(module, slope, intercept);
  const lut = new Float32Array(mask + 1);
  const window = readWindow(dataSet);
  if (window) {
    for (let u = 0; u <= mask; u++) lut[u] = windowValue(modality[u], window.center, window.width, window.fn);
  } else {
    const counts = new Uint32Array(mask + 1);
    for (let i = 0; i < n; i++) counts[(values[i] >> shift) & mask]++;
    const [lo, hi] = percentileOfCodes(counts, modality, n);
    const span = hi - lo;
    for (let u = 0; u <= mask; u++)
      lut[u] = span > 0 ? Math.min(1, Math.max(0, (modality[u] - lo) / span)) : 0;
  }
  // MONOCHROME1 means inverted, and so does Presentation LUT Shape INVERSE on MONOCHROME2. On
  // MONOCHROME1 INVERSE names that same inversion (the DX and MG IODs require INVERSE with
  // MONOCHROME1, PS3.3 C.8.11.6): invert once, never twice (a Canon DX film came out as a negative).
  const inverse = cleanString(dataSet.string('x20500020')) === 'INVERSE';
  if (module.photometric === 'MONOCHROME1' || inverse) {
    for (let u = 0; u <= mask; u++) lut[u] = 1 - lut[u];
  }
  if (reduce > 1) return reduceThroughLut(values, shift, mask, lut, module.columns, module.rows, reduce);
  const pixels = new Float32Array(n);
  if (shift === 0 && mask === 0xffff && values instanceof Uint16Array) {
    for (let i = 0; i < n; i++) pixels[i] = lut[values[i]];
  } else {
    for (let i = 0; i < n; i++) pixels[i] = lut[(values[i] >> shift) & mask];
  }
  return pixels;
}

/**
 * Display intensities of k×k blocks (mean over the pixels of each block; the last row and column of
 * blocks may be narrower), read straight from the stored values through the lookup table: one pass,
 * no full-size intensity image.
 */
function reduceThroughLut(
  values: FrameSamples['values'],
  shift: number,
  mask: number,
  lut: Float32Array,
  width: number,
  height: number,
  k: number,
): Float32Array {
  const outW = Math.ceil(width / k);
  const outH = Math.ceil(height / k);
  const acc = new Float64Array(outW * outH);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const base = Math.floor(y / k) * outW;
    for (let bx = 0; bx < outW; bx++) {
      const end = Math.min(width, (bx + 1) * k);
      let sum = 0;
      for (let x = bx * k; x < end; x++) sum += lut[(values[row + x] >> shift) & mask];
      acc[base + bx] += sum;
    }
  }
  const out = new Float32Array(outW * outH);
  for (let by = 0; by < outH; by++) {
    const rowsIn = Math.min(height, (by + 1) * k) - by * k;
    for (let bx = 0; bx < outW; bx++) {
      const colsIn = Math.min(width, (bx + 1) * k) - bx * k;
      out[by * outW + bx] = acc[by * outW + bx] / (rowsIn * colsIn);
    }
  }
  return out;
}

/**
 * The 0.5 and 99.5 percentiles of the modality values, from the histogram of stored codes walked in
 * increasing modality value (the same ranks as FALLBACK_PERCENTILES over every pixel).
 */
function percentileOfCodes(counts: Uint32Array, modality: Float64Array, n: number): [number, number] {
  const order: number[] = [];
  for (let u = 0; u < counts.length; u++) if (counts[u] > 0) order.push(u);
  // Already in modality order for unsigned codes and a non-negative slope (the common case).
  let sorted = true;
  for (let i = 1; i < order.length && sorted; i++) sorted = modality[order[i - 1]] <= modality[order[i]];
  if (!sorted) order.sort((a, b) => modality[a] - modality[b]);
  const rankLow = (FALLBACK_PERCENTILES[0] / 100) * (n - 1);
  const rankHigh = (FALLBACK_PERCENTILES[1] / 100) * (n - 1);
  let low = modality[order[0]];
  let high = modality[order[order.length - 1]];
  let seen = 0;
  let lowFound = false;
  for (const u of order) {
    seen += counts[u];
    if (!lowFound && seen > rankLow) {
      low = modality[u];
      lowFound = true;
    }
    if (seen > rankHigh) {
      high = modality[u];
      break;
    }
  }
  return [low, high];
}

/** Luma of colour samples (RGB after any codec colour transform; Y itself for uncompressed YBR_FULL). */
function colorIntensities(
  module: PixelModule,
  samples: FrameSamples,
  encoding: PixelEncoding,
): { pixels: Float32Array; chroma: number } {
  const { values, shift } = samples;
  const mask = 2 ** module.bitsStored - 1;
  const scale = 1 / mask;
  const n = module.rows * module.columns;
  const pixels = new Float32Array(n);
  // Native and RLE YBR_FULL hold Y, Cb, Cr as stored; the JPEG/J2K codecs return RGB.
  const ybr = module.photometric === 'YBR_FULL' && (encoding === 'native' || encoding === 'rle');
  const rgb = shift === 0 ? values : values.map((v) => (v >> shift) & mask);
  if (ybr) {
    for (let i = 0; i < n; i++) pixels[i] = rgb[3 * i] * scale;
    let sum = 0;
    for (let i = 0; i < n; i++)
      sum += Math.abs(rgb[3 * i + 1] - (mask + 1) / 2) + Math.abs(rgb[3 * i + 2] - (mask + 1) / 2);
    return { pixels, chroma: Math.min(1, (sum / n) * scale) };
  }
  for (let i = 0; i < n; i++) {
    pixels[i] = luminance(rgb[3 * i] * scale, rgb[3 * i + 1] * scale, rgb[3 * i + 2] * scale);
  }
  return { pixels, chroma: meanChroma(rgb, n, 3, scale) };
}

/** First Window Center/Width pair when valid (width ≥ 1 for LINEAR, > 0 otherwise). */
function readWindow(dataSet: DataSet): Window | undefined {
  const center = dataSet.floatString('x00281050', 0);
  const width = dataSet.floatString('x00281051', 0);
  if (center === undefined || width === undefined || !Number.isFinite(center) || !Number.isFinite(width)) {
    return undefined;
  }
  const declared = cleanString(dataSet.string('x00281056'));
  const fn: VoiFunction = declared === 'SIGMOID' || declared === 'LINEAR_EXACT' ? declared : 'LINEAR';
  if (fn === 'LINEAR' ? width < 1 : width <= 0) return undefined;
  return { center, width, fn };
}

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}
