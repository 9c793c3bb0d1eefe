/**
 * Typed image errors with stable codes. The server maps each client-input code to its 4xx answer
 * (errors/public.ts), so every failure of decoding (including strings and plain objects thrown by
 * dicom-parser) ends as one of these, never as an uncaught exception.
 */
import { defineErrors } from '../../errors/define.ts';
import { IMAGE_INPUT_ERRORS } from '../../errors/public.ts';

export class ImageError extends defineErrors('ImageError', {
  ...IMAGE_INPUT_ERRORS,
  INVALID_GRAY_IMAGE: {
    when: 'An in-memory GrayImage given to an encoder is inconsistent (a bug in the caller, not client input): fix the caller; the API answers INTERNAL.',
  },
}) {}
export type ImageErrorCode = ImageError['code'];
export const IMAGE_ERROR_CODES = Object.keys(ImageError.specs) as ImageErrorCode[];

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
