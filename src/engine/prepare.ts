/**
 * Per-request work before the model, in two halves:
 *  - `prepareImage` (in a preprocessing worker, off both the HTTP thread and the inference thread):
 *    decode (DICOM windowing/VOI and MONOCHROME1 inversion happen in decodeImage; plain grey PNGs take
 *    the fast path of data/image/fast-png.ts), the training preprocessing (toModelInput), the image hash
 *    and the optional de-identified PNG;
 *  - `preparePrompt` (in the inference worker, which holds the tokenizer): the prompt and its ids.
 */
import { createHash } from 'node:crypto';
import { decodeGrayPngFast } from '../data/image/fast-png.ts';
import {
  checkInput,
  decodeImage,
  encodePng16,
  type InputGateConfig,
  imageInfo,
  toModelInput,
} from '../data/image/index.ts';
import { hasJpegSignature } from '../data/image/jpeg.ts';
import { decodeJpegReduced } from '../data/image/jpeg-reduced.ts';
import { unknownWordRate } from '../eval/index.ts';
import { buildPrompt } from '../inference/prompt.ts';
import { promptIds } from '../model/vlm/tokens.ts';
import type { InferenceRequest, PreparedImage } from './protocol.ts';
import type { ModelRuntime } from './runtime.ts';

export interface PreparedRequest extends PreparedImage {
  prompt: string;
  promptIds: number[];
  unknownWordRate: number;
}

/** Pixels in [0, 1] → 16-bit grey PNG: only pixel values leave the request, no DICOM tag. */
function pixelsToPng(width: number, height: number, pixels: Float32Array): Uint8Array {
  const data = new Uint16Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 65535);
  return encodePng16({ width, height, bitsStored: 16, data });
}

/**
 * Decoded (reduced for the input size when the film is ≥ 8× larger), checked by the input gate (when given: refusals throw coded ImageErrors, warnings come
 * back), resized and normalised to the model's (imageSize²) input, exactly as in training.
 */
export async function prepareImage(
  bytes: Uint8Array,
  imageSize: number,
  keepPng: boolean,
  gate?: InputGateConfig,
): Promise<PreparedImage> {
  // Full-size films are decoded reduced for the model's input (JPEG: DCT shrink-on-load in sharp;
  // DICOM: block means through the lookup table); grey PNGs take the fast path at full size.
  const image =
    decodeGrayPngFast(bytes) ??
    (hasJpegSignature(bytes)
      ? await decodeJpegReduced(bytes, imageSize)
      : decodeImage(bytes, undefined, { reduceFor: imageSize }));
  const warnings = gate ? checkInput(image, gate) : [];
  return {
    input: toModelInput(image, imageSize),
    imageSha256: createHash('sha256').update(bytes).digest('hex'),
    ...(keepPng ? { imagePng: pixelsToPng(image.width, image.height, image.pixels) } : {}),
    info: imageInfo(image),
    warnings,
  };
}

export function preparePrompt(rt: ModelRuntime, request: InferenceRequest): PreparedRequest {
  const prompt = buildPrompt(request.task, request.question, request.options);
  const ids = promptIds(rt.tokenizer, prompt);
  // Keep the end of an over-long prompt (<sep> and the question's last words) within maxSeqLen − 1,
  // leaving room for at least one generated token.
  const fitted =
    ids.length >= rt.config.maxSeqLen
      ? [rt.tokenizer.bosId, ...ids.slice(ids.length - rt.config.maxSeqLen + 2)]
      : ids;
  const isKnown = (word: string): boolean => rt.tokenizer.idOf(word) !== undefined;
  return {
    ...request.image,
    prompt,
    promptIds: fitted,
    unknownWordRate: request.task === 'vqa' ? unknownWordRate(prompt, isKnown) : 0,
  };
}
