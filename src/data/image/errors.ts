/**
 * Typed image errors with stable codes. The server maps each code to a 4xx answer, so every
 * failure of decoding (including strings and plain objects thrown by dicom-parser) ends as one
 * of these, never as an uncaught exception.
 */
export const IMAGE_ERROR_CODES = [
  'IMAGE_EMPTY',
  'IMAGE_UNDECODABLE',
  'IMAGE_TOO_LARGE',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'UNSUPPORTED_IMAGE_FORMAT',
  'DICOM_NOT_IMAGE',
  /** Input gate (gate.ts): decodable, but not something the model may answer about. */
  'NOT_A_RADIOGRAPH',
  'NOT_A_CHEST_IMAGE',
  'IMAGE_TOO_SMALL',
  /** An in-memory GrayImage given to an encoder is inconsistent (programming error, not client input). */
  'INVALID_GRAY_IMAGE',
] as const;
export type ImageErrorCode = (typeof IMAGE_ERROR_CODES)[number];

export class ImageError extends Error {
  override readonly name = 'ImageError';
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Human-readable text of anything thrown (dicom-parser throws strings and `{ exception, dataSet }`). */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  if (thrown && typeof thrown === 'object' && 'exception' in thrown) {
    return describeThrown((thrown as { exception: unknown }).exception);
  }
  return String(thrown);
}

/** Runs `fn`; anything it throws that is not already an ImageError becomes IMAGE_UNDECODABLE. */
export function undecodableOnThrow<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (thrown) {
    if (thrown instanceof ImageError) throw thrown;
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `${what} could not be decoded (truncated or corrupt file?): ${describeThrown(thrown)}`,
      { cause: thrown },
    );
  }
}
