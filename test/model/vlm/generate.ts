import type { Feeds } from '../../../src/model/ort/session.ts';
import { ortTensor } from '../../../src/model/ort/session.ts';
import type { VlmConfig } from '../../../src/model/vlm/config.ts';
import type { Serving } from './helpers.ts';

type F32 = Float32Array;

/** Index of the largest of `n` values starting at `offset`. */
function argmax(data: F32, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (data[offset + i] > data[offset + best]) best = i;
  return best;
}

const ids64 = (xs: number[], dims: number[]) => ortTensor('int64', BigInt64Array.from(xs.map(BigInt)), dims);

/** Image tokens (B, N, D) for `batch` images. */
export async function encode(s: Serving, config: VlmConfig, images: F32, batch: number) {
  const out = await s.encoder.run({
    image: ortTensor('float32', images, [batch, 1, config.imageSize, config.imageSize]),
  });
  return out.image_tokens;
}

/** Prefill feeds for prompts left-padded to the longest: [image][pad…][prompt]. */
export function prefillFeeds(config: VlmConfig, imageTokens: Feeds[string], prompts: number[][]): Feeds {
  const b = prompts.length;
  const len = Math.max(...prompts.map((p) => p.length));
  const ids: number[] = [];
  const pos: number[] = [];
  const mask: number[] = [];
  for (const p of prompts) {
    const pad = len - p.length;
    ids.push(...Array(pad).fill(0), ...p);
    pos.push(...Array(pad).fill(0), ...p.map((_, i) => i));
    mask.push(...Array(config.imageTokens).fill(1), ...Array(pad).fill(0), ...p.map(() => 1));
  }
  return {
    image_tokens: imageTokens,
    input_ids: ids64(ids, [b, len]),
    position_ids: ids64(pos, [b, len]),
    attention_mask: ids64(mask, [b, config.imageTokens + len]),
  };
}

/** Greedy decoding with the KV cache: one prefill, then one token per step for every row. */
export async function greedyCached(
  s: Serving,
  config: VlmConfig,
  images: F32,
  prompts: number[][],
  steps: number,
): Promise<number[][]> {
  const b = prompts.length;
  const v = config.vocabSize;
  const feeds = prefillFeeds(config, await encode(s, config, images, b), prompts);
  let out = await s.prefill.run(feeds);
  let len = Math.max(...prompts.map((p) => p.length));
  let mask = Array.from(feeds.attention_mask.data as BigInt64Array, Number);
  let total = config.imageTokens + len;
  const generated: number[][] = prompts.map(() => []);
  for (let k = 0; k < steps; k++) {
    const logits = out.logits.data as F32;
    const last = out.logits.dims[1] - 1;
    const next = generated.map((_, r) => argmax(logits, (r * out.logits.dims[1] + last) * v, v));
    next.forEach((t, r) => {
      generated[r].push(t);
    });
    if (k === steps - 1) break;
    // Append a visible position to every row's mask.
    const grown: number[] = [];
    for (let r = 0; r < b; r++) grown.push(...mask.slice(r * total, (r + 1) * total), 1);
    mask = grown;
    total += 1;
    const past: Feeds = {};
    for (let i = 0; i < config.decoderLayers; i++) {
      past[`past.${i}.key`] = out[`present.${i}.key`];
      past[`past.${i}.value`] = out[`present.${i}.value`];
    }
    out = await s.step.run({
      ...past,
      input_ids: ids64(next, [b, 1]),
      position_ids: ids64(
        prompts.map((p) => p.length + k),
        [b, 1],
      ),
      attention_mask: ids64(mask, [b, total]),
    });
    len += 1;
  }
  return generated;
}

/** Greedy decoding without a cache: re-run the prefill graph on the whole sequence for every token. */
export async function greedyRecompute(
  s: Serving,
  config: VlmConfig,
  image: F32,
  prompt: number[],
  steps: number,
): Promise<number[]> {
  const imageTokens = await encode(s, config, image, 1);
  const seq = [...prompt];
  for (let k = 0; k < steps; k++) {
    const out = await s.prefill.run(prefillFeeds(config, imageTokens, [seq]));
    seq.push(argmax(out.logits.data as F32, (seq.length - 1) * config.vocabSize, config.vocabSize));
  }
  return seq.slice(prompt.length);
}
