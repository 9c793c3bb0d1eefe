/**
 * A small DICOM writer: data elements in explicit or implicit VR, little or big endian, with
 * encapsulated pixel data, and a Part 10 wrapper (preamble, "DICM", file meta group).
 */
export type Vr =
  | 'AE'
  | 'AS'
  | 'CS'
  | 'DA'
  | 'DS'
  | 'IS'
  | 'LO'
  | 'LT'
  | 'OB'
  | 'OW'
  | 'PN'
  | 'SH'
  | 'SQ'
  | 'SS'
  | 'ST'
  | 'TM'
  | 'UI'
  | 'UL'
  | 'US'
  | 'UN'
  | 'UT';

export interface DicomElement {
  /** (group << 16) | element, e.g. 0x00280010 for Rows. */
  tag: number;
  vr: Vr;
  /** Text (multiple values joined by "\\"), numbers for US/SS/UL, bytes for OB/UN, 16-bit words for OW. */
  value: string | number[] | Uint8Array | Uint16Array;
  /** OB pixel fragments written as an encapsulated sequence (basic offset table left empty). */
  fragments?: Uint8Array[];
}

export interface ElementEncoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

const LONG_VRS = new Set<Vr>(['OB', 'OW', 'SQ', 'UN', 'UT']);
const UNDEFINED_LENGTH = 0xffffffff;

/** Encodes elements sorted by tag, each value padded to even length (UI with NUL, text with space, bytes with 0). */
export function encodeElements(elements: readonly DicomElement[], encoding: ElementEncoding): Uint8Array {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  return concat(sorted.map((e) => encodeElement(e, encoding)));
}

function encodeElement(element: DicomElement, encoding: ElementEncoding): Uint8Array {
  const { littleEndian } = encoding;
  if (element.fragments) {
    const items = [
      item(new Uint8Array(0), littleEndian),
      ...element.fragments.map((f) => item(f, littleEndian)),
    ];
    const delimiter = tagHeader(0xfffee0dd, 0, littleEndian);
    return concat([elementHeader(element.tag, 'OB', UNDEFINED_LENGTH, encoding), ...items, delimiter]);
  }
  const value = encodeValue(element, littleEndian);
  return concat([elementHeader(element.tag, element.vr, value.length, encoding), value]);
}

function encodeValue(element: DicomElement, littleEndian: boolean): Uint8Array {
  const { vr, value } = element;
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    return padEven(bytes, vr === 'UI' ? 0 : 0x20);
  }
  if (value instanceof Uint16Array) {
    const out = new Uint8Array(value.length * 2);
    const view = new DataView(out.buffer);
    for (let i = 0; i < value.length; i++) view.setUint16(i * 2, value[i], littleEndian);
    return out;
  }
  if (value instanceof Uint8Array) return padEven(value, 0);
  const size = vr === 'UL' ? 4 : 2;
  const out = new Uint8Array(value.length * size);
  const view = new DataView(out.buffer);
  value.forEach((v, i) => {
    if (size === 4) view.setUint32(i * 4, v, littleEndian);
    else if (vr === 'SS') view.setInt16(i * 2, v, littleEndian);
    else view.setUint16(i * 2, v, littleEndian);
  });
  return out;
}

function elementHeader(tag: number, vr: Vr, length: number, encoding: ElementEncoding): Uint8Array {
  const { explicitVr, littleEndian } = encoding;
  if (!explicitVr) return tagHeader(tag, length, littleEndian);
  const long = LONG_VRS.has(vr);
  const out = new Uint8Array(long ? 12 : 8);
  const view = new DataView(out.buffer);
  view.setUint16(0, tag >>> 16, littleEndian);
  view.setUint16(2, tag & 0xffff, littleEndian);
  out[4] = vr.charCodeAt(0);
  out[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, length, littleEndian);
  else view.setUint16(6, length, littleEndian);
  return out;
}

/** Tag + 4-byte length: implicit VR elements, items and delimiters. */
function tagHeader(tag: number, length: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint16(0, tag >>> 16, littleEndian);
  view.setUint16(2, tag & 0xffff, littleEndian);
  view.setUint32(4, length, littleEndian);
  return out;
}

function item(fragment: Uint8Array, littleEndian: boolean): Uint8Array {
  const data = padEven(fragment, 0);
  return concat([tagHeader(0xfffee000, data.length, littleEndian), data]);
}

export interface Part10Options {
  transferSyntax: string;
  sopClassUid: string;
  sopInstanceUid: string;
  implementationClassUid: string;
  implementationVersionName: string;
  /** Data set encoding; defaults to what the transfer syntax implies for the uncompressed ones. */
  encoding: ElementEncoding;
  /** Transform of the encoded data set, e.g. raw deflate for the deflated syntax. */
  transformDataSet?: (dataSet: Uint8Array) => Uint8Array;
}

/** Preamble (128 zero bytes) + "DICM" + file meta group (explicit VR little endian, with group length) + data set. */
export function encodePart10(dataSet: readonly DicomElement[], options: Part10Options): Uint8Array {
  const metaBody = encodeElements(
    [
      { tag: 0x00020001, vr: 'OB', value: Uint8Array.of(0, 1) },
      { tag: 0x00020002, vr: 'UI', value: options.sopClassUid },
      { tag: 0x00020003, vr: 'UI', value: options.sopInstanceUid },
      { tag: 0x00020010, vr: 'UI', value: options.transferSyntax },
      { tag: 0x00020012, vr: 'UI', value: options.implementationClassUid },
      { tag: 0x00020013, vr: 'SH', value: options.implementationVersionName },
    ],
    { explicitVr: true, littleEndian: true },
  );
  const groupLength = encodeElements([{ tag: 0x00020000, vr: 'UL', value: [metaBody.length] }], {
    explicitVr: true,
    littleEndian: true,
  });
  const encoded = encodeElements(dataSet, options.encoding);
  const body = options.transformDataSet ? options.transformDataSet(encoded) : encoded;
  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concat([preamble, groupLength, metaBody, body]);
}

function padEven(bytes: Uint8Array, pad: number): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = pad;
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
