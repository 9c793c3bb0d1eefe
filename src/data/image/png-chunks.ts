/**
 * PNG container helpers: signature, chunk walking (to read IHDR and sBIT before pngjs allocates
 * anything) and the CRC needed to insert an sBIT chunk when encoding.
 */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
  /** Significant bits of the first channel from sBIT, when present. */
  significantBits?: number;
  /** Total bytes of compressed IDAT data. */
  idatBytes: number;
}

export function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Walks the chunks up to IEND (or the end of the data); returns undefined if IHDR is missing. */
export function readPngHeader(bytes: Uint8Array): PngHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PngHeader | undefined;
  let pos = 8;
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const data = pos + 8;
    if (type === 'IHDR' && length >= 13 && data + 13 <= bytes.length) {
      header = {
        width: view.getUint32(data),
        height: view.getUint32(data + 4),
        bitDepth: bytes[data + 8],
        colorType: bytes[data + 9],
        interlaced: bytes[data + 12] === 1,
        idatBytes: 0,
      };
    } else if (type === 'sBIT' && header && length >= 1 && data < bytes.length) {
      header.significantBits = bytes[data];
    } else if (type === 'IDAT' && header) {
      header.idatBytes += length;
    } else if (type === 'IEND') {
      break;
    }
    pos = data + length + 4;
  }
  return header;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC over type and data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}
