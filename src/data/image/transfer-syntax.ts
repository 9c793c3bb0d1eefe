/** DICOM transfer syntaxes: which ones this decoder reads, and names for error messages. */
export const TS = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  htj2kLossless: '1.2.840.10008.1.2.4.201',
  htj2kLosslessRpcl: '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
  rle: '1.2.840.10008.1.2.5',
  deflatedImageFrame: '1.2.840.10008.1.2.8.1',
} as const;

/** How the pixel data of a syntax is decoded (codecs.ts, rle.ts, or read as is). */
export type PixelEncoding =
  | 'native'
  | 'deflated-frame'
  | 'jpeg-dct'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k'
  | 'rle';

const SUPPORTED: Record<string, PixelEncoding> = {
  [TS.implicitLittle]: 'native',
  [TS.explicitLittle]: 'native',
  [TS.deflatedExplicitLittle]: 'native',
  [TS.explicitBig]: 'native',
  [TS.jpegBaseline]: 'jpeg-dct',
  [TS.jpegExtended]: 'jpeg-dct',
  [TS.jpegLossless]: 'jpeg-lossless',
  [TS.jpegLosslessSv1]: 'jpeg-lossless',
  [TS.jpegLsLossless]: 'jpeg-ls',
  [TS.jpegLsNearLossless]: 'jpeg-ls',
  [TS.jpeg2000Lossless]: 'jpeg2000',
  [TS.jpeg2000]: 'jpeg2000',
  [TS.htj2kLossless]: 'htj2k',
  [TS.htj2kLosslessRpcl]: 'htj2k',
  [TS.htj2k]: 'htj2k',
  [TS.rle]: 'rle',
  [TS.deflatedImageFrame]: 'deflated-frame',
};

/**
 * What the 415 message and the docs say is supported (one line). JPEG Extended 12-bit frames are
 * read by jpeg12.ts (grey, sequential Huffman), 8-bit ones by libjpeg-turbo.
 */
export const SUPPORTED_SYNTAXES_TEXT =
  'uncompressed (implicit/explicit little endian, big endian), deflated (data set .1.2.1.99 or frames .1.2.8.1), ' +
  'RLE Lossless, JPEG Baseline (.50), ' +
  'JPEG Extended 8/12-bit (.51), JPEG Lossless (.57, .70), JPEG-LS (.80, .81), JPEG 2000 (.90, .91) and ' +
  'HTJ2K (.201, .202, .203)';

const NAMES: Record<string, string> = {
  [TS.implicitLittle]: 'Implicit VR Little Endian',
  [TS.explicitLittle]: 'Explicit VR Little Endian',
  [TS.deflatedExplicitLittle]: 'Deflated Explicit VR Little Endian',
  [TS.explicitBig]: 'Explicit VR Big Endian',
  [TS.jpegBaseline]: 'JPEG Baseline (Process 1)',
  [TS.rle]: 'RLE Lossless',
  [TS.deflatedImageFrame]: 'Deflated Image Frame Compression',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.52': 'JPEG Extended (Process 3 & 5, retired)',
  '1.2.840.10008.1.2.4.53': 'JPEG Spectral Selection, Non-Hierarchical (retired)',
  '1.2.840.10008.1.2.4.55': 'JPEG Full Progression, Non-Hierarchical (retired)',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile / High Level',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, First-Order Prediction (Process 14 SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
};

export function pixelEncodingOf(transferSyntax: string): PixelEncoding | undefined {
  return SUPPORTED[transferSyntax];
}

export function transferSyntaxName(transferSyntax: string): string {
  return NAMES[transferSyntax] ?? 'unknown transfer syntax';
}

export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = Object.keys(SUPPORTED);
