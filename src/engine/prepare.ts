/**
 * Per-request work before the model: decode (DICOM windowing/VOI and MONOCHROME1 inversion happen in
 * decodeImage), the training preprocessing (toModelInput), the image hash, the optional de-identified
 * PNG, and the prompt ids. Runs in the worker, so the HTTP thread never decodes pixels.
 */
import { createHash } from 'node:crypto';
import { decodeImage, encodePng16, toModelInput } from '../data/image/index.ts';
import { unknownWordRate } from '../eval/index.ts';
import { promptIds } from '../model/vlm/tokens.ts';
import { buildPrompt } from './prompt.ts';
import type { WorkerRequest } from './protocol.ts';
import type { ModelRuntime } from './runtime.ts';

export interface PreparedRequest {
  input: Float32Array;
  prompt: string;
  promptIds: number[];
  unknownWordRate: number;
  imageSha256: string;
  imagePng?: Uint8Array;
}

/** Pixels in [0, 1] → 16-bit grey PNG: only pixel values leave the request, no DICOM tag. */
function pixelsToPng(width: number, height: number, pixels: Float32Array): Uint8Array {
  const data = new Uint16Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 65535);
  return encodePng16({ width, height, bitsStored: 16, data });
}

export function prepareRequest(rt: ModelRuntime, request: WorkerRequest, keepPng: boolean): PreparedRequest {
  const image = decodeImage(request.image);
  const input = toModelInput(image, rt.config.imageSize);
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
    input,
    prompt,
    promptIds: fitted,
    unknownWordRate: request.task === 'vqa' ? unknownWordRate(prompt, isKnown) : 0,
    imageSha256: createHash('sha256').update(request.image).digest('hex'),
    ...(keepPng ? { imagePng: pixelsToPng(image.width, image.height, image.pixels) } : {}),
  };
}
