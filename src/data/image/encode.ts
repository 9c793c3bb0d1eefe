import { Rng } from '../random.ts';
import type { GrayImage, View } from '../types.ts';
import { type DicomElement, encodePart10 } from './dicom-writer.ts';
import { assertGrayImage, maxValueOf, replicateTo16 } from './gray-scale.ts';
import { writeGrayPng } from './png-write.ts';
import { TS } from './transfer-syntax.ts';

/** Digital X-Ray Image Storage – For Presentation; Modality is DX throughout. */
export const DX_FOR_PRESENTATION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.1.1';
export const CHEXPO_IMPLEMENTATION_CLASS_UID = uidFromSeed(0, 'chexpo-implementation-class');
export const CHEXPO_IMPLEMENTATION_VERSION = 'CHEXPO_0_1';

/** 8-bit grey PNG for people: value × 255 / (2^bits − 1), rounded. Lossy for more than 8 bits. */
export function encodePng8(img: GrayImage): Uint8Array {
  assertGrayImage(img);
  const scale = 255 / maxValueOf(img.bitsStored);
  const bytes = new Uint8Array(img.width * img.height);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(img.data[i] * scale);
  return writeGrayPng({ width: img.width, height: img.height, bitDepth: 8, bytes });
}

/**
 * Lossless 16-bit grey PNG: samples widened by bit replication, with an sBIT chunk recording
 * bitsStored, so `decodeImage` recovers v / (2^bits − 1) exactly and ordinary viewers show it right.
 */
export function encodePng16(img: GrayImage): Uint8Array {
  assertGrayImage(img);
  const bytes = new Uint8Array(img.width * img.height * 2);
  for (let i = 0; i < img.data.length; i++) {
    const w = replicateTo16(img.data[i], img.bitsStored);
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  }
  return writeGrayPng({
    width: img.width,
    height: img.height,
    bitDepth: 16,
    bytes,
    significantBits: img.bitsStored,
  });
}

export interface DicomEncodeOptions {
  /** Case seed: Study/Series/SOP Instance UIDs derive from it (same seed → same bytes). */
  seed: number;
  view: View;
  /** Detector pixel spacing in mm, written as PixelSpacing and ImagerPixelSpacing when known. */
  pixelSpacingMm?: number;
}

/**
 * DICOM Part 10, explicit VR little endian, DX For Presentation, MONOCHROME2, 16 bits allocated.
 * No PHI: PatientName/PatientID and other type 2 identifying attributes are present but empty.
 * The window is the full stored range (center 2^(b−1), width 2^b), under which the PS3.3 linear
 * VOI gives exactly v / (2^b − 1), the same intensities as the 16-bit PNG.
 */
export function encodeDicom(img: GrayImage, options: DicomEncodeOptions): Uint8Array {
  assertGrayImage(img);
  const b = img.bitsStored;
  const sopInstanceUid = uidFromSeed(options.seed, 'sop-instance');
  const spacing = options.pixelSpacingMm;
  const spacingElements: DicomElement[] =
    spacing !== undefined
      ? [
          { tag: 0x00181164, vr: 'DS', value: `${formatDs(spacing)}\\${formatDs(spacing)}` },
          { tag: 0x00280030, vr: 'DS', value: `${formatDs(spacing)}\\${formatDs(spacing)}` },
        ]
      : [];
  const dataSet: DicomElement[] = [
    { tag: 0x00080008, vr: 'CS', value: 'DERIVED\\PRIMARY' },
    { tag: 0x00080016, vr: 'UI', value: DX_FOR_PRESENTATION_SOP_CLASS },
    { tag: 0x00080018, vr: 'UI', value: sopInstanceUid },
    { tag: 0x00080020, vr: 'DA', value: '' },
    { tag: 0x00080030, vr: 'TM', value: '' },
    { tag: 0x00080050, vr: 'SH', value: '' },
    { tag: 0x00080060, vr: 'CS', value: 'DX' },
    { tag: 0x00080068, vr: 'CS', value: 'FOR PRESENTATION' },
    { tag: 0x00080070, vr: 'LO', value: 'chexpo' },
    { tag: 0x00080090, vr: 'PN', value: '' },
    { tag: 0x0008103e, vr: 'LO', value: 'synthetic chest phantom' },
    { tag: 0x00100010, vr: 'PN', value: '' },
    { tag: 0x00100020, vr: 'LO', value: '' },
    { tag: 0x00100030, vr: 'DA', value: '' },
    { tag: 0x00100040, vr: 'CS', value: '' },
    { tag: 0x00120062, vr: 'CS', value: 'YES' },
    { tag: 0x00120063, vr: 'LO', value: 'synthetic image, no patient data' },
    { tag: 0x00180015, vr: 'CS', value: 'CHEST' },
    { tag: 0x00185101, vr: 'CS', value: options.view },
    ...spacingElements,
    { tag: 0x0020000d, vr: 'UI', value: uidFromSeed(options.seed, 'study') },
    { tag: 0x0020000e, vr: 'UI', value: uidFromSeed(options.seed, 'series') },
    { tag: 0x00200010, vr: 'SH', value: '' },
    { tag: 0x00200011, vr: 'IS', value: '1' },
    { tag: 0x00200013, vr: 'IS', value: '1' },
    { tag: 0x00200020, vr: 'CS', value: 'L\\F' },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: [img.height] },
    { tag: 0x00280011, vr: 'US', value: [img.width] },
    { tag: 0x00280100, vr: 'US', value: [16] },
    { tag: 0x00280101, vr: 'US', value: [b] },
    { tag: 0x00280102, vr: 'US', value: [b - 1] },
    { tag: 0x00280103, vr: 'US', value: [0] },
    { tag: 0x00280301, vr: 'CS', value: 'NO' },
    { tag: 0x00281040, vr: 'CS', value: 'LIN' },
    { tag: 0x00281041, vr: 'SS', value: [1] },
    { tag: 0x00281050, vr: 'DS', value: formatDs(2 ** (b - 1)) },
    { tag: 0x00281051, vr: 'DS', value: formatDs(2 ** b) },
    { tag: 0x00281052, vr: 'DS', value: '0' },
    { tag: 0x00281053, vr: 'DS', value: '1' },
    { tag: 0x00281054, vr: 'LO', value: 'US' },
    { tag: 0x20500020, vr: 'CS', value: 'IDENTITY' },
    { tag: 0x7fe00010, vr: 'OW', value: img.data },
  ];
  return encodePart10(dataSet, {
    transferSyntax: TS.explicitLittle,
    sopClassUid: DX_FOR_PRESENTATION_SOP_CLASS,
    sopInstanceUid,
    implementationClassUid: CHEXPO_IMPLEMENTATION_CLASS_UID,
    implementationVersionName: CHEXPO_IMPLEMENTATION_VERSION,
    encoding: { explicitVr: true, littleEndian: true },
  });
}

/** A UUID-derived UID (PS3.5 B.2): "2.25." + a 128-bit integer from the seeded stream, ≤ 44 characters. */
export function uidFromSeed(seed: number, label: string): string {
  const rng = Rng.derive(seed, `dicom-uid:${label}`);
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(rng.nextUint32());
  return `2.25.${value.toString()}`;
}

/** Decimal string within the DS limit of 16 characters. */
function formatDs(value: number): string {
  const text = String(value);
  return text.length <= 16 ? text : value.toPrecision(10);
}
