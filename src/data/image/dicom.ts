import type { DataSet, Element } from 'dicom-parser';
import type { View } from '../types.ts';
import { type DecodedImage, luminance } from './decoded-image.ts';
import { cleanString, type DicomLayout, dicomParser, parseDicomBytes } from './dicom-parse.ts';
import { ImageError, undecodableOnThrow } from './errors.ts';
import { decodeJpegSamples } from './jpeg.ts';
import { checkDimensions, type DecodeLimits } from './limits.ts';
import { decodeRleFrame } from './rle.ts';
import { type PixelEncoding, pixelEncodingOf, TS, transferSyntaxName } from './transfer-syntax.ts';
import { applyPercentileStretch, applyWindow, type VoiFunction, type Window } from './voi.ts';

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

/** First frame's samples, interleaved, as raw bytes plus how to read them. */
interface FrameSamples {
  bytes: Uint8Array;
  littleEndian: boolean;
  bytesPerSample: number;
}

const GRAY = new Set(['MONOCHROME1', 'MONOCHROME2']);
const COLOR_NATIVE = new Set(['RGB']);
const COLOR_JPEG = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_ICT', 'YBR_RCT']);

/**
 * Decodes the first frame of a single- or multi-frame DICOM image to display intensities:
 * stored bits → Modality LUT (slope/intercept) → VOI (first window, else a 0.5–99.5 percentile
 * stretch) → inversion for MONOCHROME1 or Presentation LUT Shape INVERSE. Colour images become luma.
 */
export function decodeDicom(bytes: Uint8Array, layout: DicomLayout, limits: DecodeLimits): DecodedImage {
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
        'send uncompressed, deflated, RLE or JPEG baseline DICOM, or a PNG',
    );
  }
  const module = readPixelModule(dataSet, rows, columns);
  const samples = readFirstFrame(dataSet, pixelData, module, encoding, transferSyntax, limits);
  const pixels = GRAY.has(module.photometric)
    ? grayIntensities(dataSet, module, samples)
    : colorIntensities(module, samples);
  const view = cleanString(dataSet.string('x00185101'));
  return {
    width: columns,
    height: rows,
    pixels,
    format: 'dicom',
    meta: {
      modality: cleanString(dataSet.string('x00080060')),
      photometric: module.photometric,
      bitsStored: module.bitsStored,
      transferSyntax,
      view: view === 'PA' || view === 'AP' ? (view as View) : undefined,
      frames: module.frames,
    },
  };
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
  const color = COLOR_JPEG.has(photometric) && samplesPerPixel === 3;
  if (!gray && !color) {
    throw new ImageError(
      'UNSUPPORTED_IMAGE_FORMAT',
      `DICOM photometric interpretation ${photometric} with ${samplesPerPixel} samples per pixel is not ` +
        'supported; send MONOCHROME1/MONOCHROME2 grayscale (or RGB)',
    );
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new ImageError(
      'UNSUPPORTED_IMAGE_FORMAT',
      `DICOM BitsAllocated ${bitsAllocated} is not supported (8 or 16)`,
    );
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `DICOM bit layout is inconsistent: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`,
    );
  }
  return module;
}

function readFirstFrame(
  dataSet: DataSet,
  pixelData: Element,
  module: PixelModule,
  encoding: PixelEncoding,
  transferSyntax: string,
  limits: DecodeLimits,
): FrameSamples {
  const pixelCount = module.rows * module.columns;
  const bytesPerSample = module.bitsAllocated / 8;
  if (encoding === 'native') {
    if (pixelData.encapsulatedPixelData) {
      throw new ImageError(
        'IMAGE_UNDECODABLE',
        'DICOM pixel data is encapsulated but the syntax is uncompressed',
      );
    }
    if (!COLOR_NATIVE.has(module.photometric) && module.samplesPerPixel === 3) {
      throw new ImageError(
        'UNSUPPORTED_IMAGE_FORMAT',
        `uncompressed ${module.photometric} DICOM is not supported`,
      );
    }
    const frameBytes = pixelCount * module.samplesPerPixel * bytesPerSample;
    const available = Math.min(pixelData.length, dataSet.byteArray.length - pixelData.dataOffset);
    if (!(available >= frameBytes)) {
      throw new ImageError(
        'IMAGE_UNDECODABLE',
        `DICOM pixel data holds ${Math.max(0, available)} bytes but ${module.rows}×${module.columns} pixels ` +
          `need ${frameBytes} (truncated file?)`,
      );
    }
    const bytes = dataSet.byteArray.subarray(pixelData.dataOffset, pixelData.dataOffset + frameBytes);
    const planar = module.samplesPerPixel === 3 && module.planar;
    return {
      bytes: planar ? interleavePlanes(bytes, pixelCount, bytesPerSample) : bytes,
      littleEndian: transferSyntax !== TS.explicitBig,
      bytesPerSample,
    };
  }
  const frame = encapsulatedFirstFrame(dataSet, pixelData, module.frames, encoding);
  if (encoding === 'rle') {
    return {
      bytes: decodeRleFrame(frame, pixelCount, module.samplesPerPixel, bytesPerSample),
      littleEndian: true,
      bytesPerSample,
    };
  }
  const jpeg = decodeJpegSamples(frame, limits, 'DICOM JPEG frame');
  if (jpeg.width !== module.columns || jpeg.height !== module.rows) {
    throw new ImageError('IMAGE_UNDECODABLE', 'DICOM JPEG frame size differs from Rows/Columns');
  }
  const channels = module.samplesPerPixel;
  const bytes = new Uint8Array(pixelCount * channels);
  for (let i = 0; i < pixelCount; i++) {
    for (let c = 0; c < channels; c++) bytes[i * channels + c] = jpeg.rgba[i * 4 + c];
  }
  return { bytes, littleEndian: true, bytesPerSample: 1 };
}

function encapsulatedFirstFrame(
  dataSet: DataSet,
  pixelData: Element,
  frames: number,
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
      return dicomParser.readEncapsulatedImageFrame(dataSet, pixelData, 0);
    // Without an offset table: RLE is one fragment per frame; JPEG frames are found by their markers.
    if (encoding === 'rle' || fragments.length === frames) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, pixelData, 0, 1);
    }
    const table = dicomParser.createJPEGBasicOffsetTable(dataSet, pixelData);
    return dicomParser.readEncapsulatedImageFrame(dataSet, pixelData, 0, table);
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

/** Stored value of sample `index`: bits [highBit − bitsStored + 1, highBit], sign-extended if signed. */
function storedReader(module: PixelModule, samples: FrameSamples): (index: number) => number {
  const { bytes, littleEndian, bytesPerSample } = samples;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shift = module.highBit + 1 - module.bitsStored;
  const mask = 2 ** module.bitsStored - 1;
  const signBit = 2 ** (module.bitsStored - 1);
  const signed = module.signed;
  return (index) => {
    const raw = bytesPerSample === 2 ? view.getUint16(index * 2, littleEndian) : bytes[index];
    const value = (raw >> shift) & mask;
    return signed && value >= signBit ? value - 2 * signBit : value;
  };
}

function grayIntensities(dataSet: DataSet, module: PixelModule, samples: FrameSamples): Float32Array {
  const read = storedReader(module, samples);
  const slope = finiteOr(dataSet.floatString('x00281053'), 1);
  const intercept = finiteOr(dataSet.floatString('x00281052'), 0);
  const values = new Float32Array(module.rows * module.columns);
  for (let i = 0; i < values.length; i++) values[i] = read(i) * slope + intercept;
  const window = readWindow(dataSet);
  if (window) applyWindow(values, window);
  else applyPercentileStretch(values);
  // Presentation LUT Shape INVERSE flips once more (PS3.3 C.11.6); MONOCHROME1 itself means inverted.
  const inverse = cleanString(dataSet.string('x20500020')) === 'INVERSE';
  if ((module.photometric === 'MONOCHROME1') !== inverse) {
    for (let i = 0; i < values.length; i++) values[i] = 1 - values[i];
  }
  return values;
}

function colorIntensities(module: PixelModule, samples: FrameSamples): Float32Array {
  const read = storedReader(module, samples);
  const scale = 1 / (2 ** module.bitsStored - 1);
  const values = new Float32Array(module.rows * module.columns);
  for (let i = 0; i < values.length; i++) {
    values[i] = luminance(read(3 * i) * scale, read(3 * i + 1) * scale, read(3 * i + 2) * scale);
  }
  return values;
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
