import type { DecodedImage } from './decoded-image.ts';
import { type DicomDecodeOptions, decodeDicom } from './dicom.ts';
import { detectDicomLayout } from './dicom-parse.ts';
import { ImageError } from './errors.ts';
import { decodeJpeg, hasJpegSignature } from './jpeg.ts';
import { checkByteSize, type DecodeLimits, resolveLimits } from './limits.ts';
import { decodePng } from './png.ts';
import { hasPngSignature } from './png-chunks.ts';

/**
 * Decodes PNG, JPEG or DICOM (by magic bytes, not by name or content type) to display
 * intensities in [0, 1], bright = dense. Throws only ImageError; sizes are checked from headers
 * before pixel buffers are allocated.
 */
export function decodeImage(
  bytes: Uint8Array,
  limits?: Partial<DecodeLimits>,
  options: DicomDecodeOptions = {},
): DecodedImage {
  const resolved = resolveLimits(limits);
  if (bytes.length === 0) throw new ImageError('IMAGE_EMPTY', 'image is empty (0 bytes)');
  checkByteSize(bytes.length, resolved);
  if (hasPngSignature(bytes)) return decodePng(bytes, resolved);
  if (hasJpegSignature(bytes)) return decodeJpeg(bytes, resolved);
  const layout = detectDicomLayout(bytes);
  if (layout) return decodeDicom(bytes, layout, resolved, options);
  throw new ImageError(
    'UNSUPPORTED_IMAGE_FORMAT',
    'image is not PNG, JPEG or DICOM (checked by signature: PNG 89 50 4E 47, JPEG FF D8 FF, DICOM "DICM" at byte 128)',
  );
}
