import { createRequire } from 'node:module';
import { inflateRawSync } from 'node:zlib';
import type * as DicomParser from 'dicom-parser';
import { describeThrown, ImageError } from './errors.ts';
import type { DecodeLimits } from './limits.ts';
import { TS } from './transfer-syntax.ts';

// dicom-parser is a UMD bundle: load it through require so its functions are typed and present.
export const dicomParser = createRequire(import.meta.url)('dicom-parser') as typeof DicomParser;

const DICM_OFFSET = 128;
const EXPLICIT_VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
);

/** How a DICOM stream starts: Part 10 with preamble, or headless (ACR-NEMA style) data elements. */
export type DicomLayout = 'part10' | 'meta-without-preamble' | 'headless-implicit' | 'headless-explicit';

export function detectDicomLayout(bytes: Uint8Array): DicomLayout | undefined {
  if (bytes.length >= DICM_OFFSET + 4 && ascii(bytes, DICM_OFFSET, 4) === 'DICM') return 'part10';
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const group = view.getUint16(0, true);
  const element = view.getUint16(2, true);
  // Headless files start with the meta group or the identifying group (0008), element numbers small.
  if ((group !== 0x0002 && group !== 0x0008) || element > 0x00ff) return undefined;
  const explicit = EXPLICIT_VRS.has(ascii(bytes, 4, 2));
  if (group === 0x0002) return explicit ? 'meta-without-preamble' : undefined;
  if (explicit) return 'headless-explicit';
  const length = view.getUint32(4, true);
  return length <= bytes.length - 8 ? 'headless-implicit' : undefined;
}

export interface ParsedDicom {
  dataSet: DicomParser.DataSet;
  transferSyntax: string;
}

/**
 * Parses with dicom-parser. Headless streams get the transfer syntax their first element implies;
 * deflated data sets are inflated with a bound so a small file cannot expand without limit.
 */
export function parseDicomBytes(bytes: Uint8Array, layout: DicomLayout, limits: DecodeLimits): ParsedDicom {
  let input = bytes;
  const options: DicomParser.ParseDicomOptions = {
    inflater: (byteArray: Uint8Array, position: number) => inflateBounded(byteArray, position, limits),
  } as DicomParser.ParseDicomOptions;
  if (layout === 'meta-without-preamble') {
    input = new Uint8Array(DICM_OFFSET + 4 + bytes.length);
    input.set([0x44, 0x49, 0x43, 0x4d], DICM_OFFSET);
    input.set(bytes, DICM_OFFSET + 4);
  } else if (layout === 'headless-implicit') {
    options.TransferSyntaxUID = TS.implicitLittle;
  } else if (layout === 'headless-explicit') {
    options.TransferSyntaxUID = TS.explicitLittle;
  }
  let dataSet: DicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(input, options);
  } catch (thrown) {
    if (thrown instanceof ImageError) throw thrown;
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `DICOM could not be parsed (truncated or corrupt file?): ${describeThrown(thrown)}`,
      { cause: thrown },
    );
  }
  const transferSyntax = options.TransferSyntaxUID ?? cleanString(dataSet.string('x00020010'));
  if (!transferSyntax) {
    throw new ImageError('IMAGE_UNDECODABLE', 'DICOM file meta has no transfer syntax (0002,0010)');
  }
  return { dataSet, transferSyntax };
}

function inflateBounded(byteArray: Uint8Array, position: number, limits: DecodeLimits): Uint8Array {
  const maxOutputLength = limits.maxInflatedBytes;
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(byteArray.subarray(position), { maxOutputLength });
  } catch (thrown) {
    if (thrown instanceof RangeError) {
      throw new ImageError(
        'IMAGE_TOO_LARGE',
        `deflated DICOM data set inflates beyond ${maxOutputLength} bytes; send it uncompressed or downsampled`,
      );
    }
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `deflated DICOM data set is corrupt: ${describeThrown(thrown)}`,
    );
  }
  const full = new Uint8Array(position + inflated.length);
  full.set(byteArray.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

export function cleanString(value: string | undefined): string | undefined {
  const cleaned = value?.replace(/\0/g, '').trim();
  return cleaned ? cleaned : undefined;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}
