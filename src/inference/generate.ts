/**
 * Offline and serving generation for chexpo-tiny over the three serving sessions (see
 * src/model/vlm/index.ts for the graph I/O). Greedy decoding with a KV cache, batched: one left-padded
 * prefill, then one decode step per token for the rows still running; a row that stops (at `<eos>` or
 * its token budget) is dropped from the cache, so it costs nothing afterwards.
 *
 * The loop is made of small exported parts with one calling contract each — `encodeImages`,
 * `prefill`, `chooseTokens` (logits processors + argmax + confidences), `step`, `keepRows` and
 * stopping criteria — so an iteration-level scheduler can run the same parts on its own batches.
 * A request may bring its own processors (e.g. `nucleusSampler`, seeded per row) for sampled answers.
 */
import type { Rng } from '../data/random.ts';
import { type Feeds, type OrtSession, type ort, ortTensor } from '../model/ort/session.ts';
import type { VlmConfig } from '../model/vlm/config.ts';
import { VlmError } from '../model/vlm/errors.ts';

export interface ServingSessions {
  encoder: OrtSession;
  prefill: OrtSession;
  step: OrtSession;
}

export interface GenerationRequest {
  /** One model input (S×S, from `toModelInput(img, config.imageSize)`); requests sharing the same array are encoded once. */
  image: Float32Array;
  /** `<bos> prompt <sep>` (`promptIds` in tokens.ts). */
  promptIds: number[];
  /** Budget of generated tokens, `<eos>` included; also capped so text positions stay below maxSeqLen. */
  maxTokens: number;
  /** This row's own processors, applied after the generator's (e.g. a seeded `nucleusSampler`). */
  processors?: readonly LogitsProcessor[];
}

export interface TopAlternative {
  id: number;
  logprob: number;
}

export interface GeneratedToken {
  id: number;
  prob: number;
  logprob: number;
  /** Entropy (nats) of the next-token distribution this token was chosen from. */
  entropy: number;
  /** The most likely tokens, best first (the chosen one included), when asked for. */
  top?: TopAlternative[];
}

export type StopReason = 'eos' | 'max_tokens';

export interface Generation {
  ids: number[];
  tokens: GeneratedToken[];
  stop: StopReason;
}

export interface GenerateOptions {
  /** Top alternatives per token, 0..5 (default 0). */
  topLogprobs?: number;
}

/** Edits one row of logits in place before the token is chosen (e.g. bans a token with −∞). */
export type LogitsProcessor = (logits: Float32Array, generated: readonly number[]) => void;

/** Says why a row stops after its latest token, or undefined to continue. */
export type StoppingCriterion = (generated: readonly number[], maxTokens: number) => StopReason | undefined;

export const stopAtEos =
  (eosId: number): StoppingCriterion =>
  (generated) =>
    generated.at(-1) === eosId ? 'eos' : undefined;

export const stopAtMaxTokens: StoppingCriterion = (generated, maxTokens) =>
  generated.length >= maxTokens ? 'max_tokens' : undefined;

/** Bans tokens that must never be generated (e.g. `<pad>`, `<bos>`, `<sep>`, `<image>`). */
export const suppressTokens =
  (ids: readonly number[]): LogitsProcessor =>
  (logits) => {
    for (const id of ids) logits[id] = Number.NEGATIVE_INFINITY;
  };

export interface SamplingOptions {
  /** Softmax temperature, > 0 (1: the model's own distribution; → 0: greedy). */
  temperature: number;
  /** Nucleus mass in (0, 1]: the most likely tokens whose probabilities first sum to at least this (1: all). */
  topP: number;
}

/** A uniform draw in the open interval (0, 1), so both logarithms of the Gumbel noise stay finite. */
const openUniform = (rng: Rng) => (rng.nextUint32() + 0.5) / 4294967296;

/**
 * Seeded temperature + top-p (nucleus) sampling as a processor, by the Gumbel-max trick: every
 * token in the nucleus of softmax(x/T) gets x/T − log(−log U) (U uniform, one per token), every
 * other token −∞, so the argmax that follows (`greedyToken`) is an exact draw from softmax(x/T)
 * restricted to the nucleus. Banned tokens (−∞ before it) stay banned. The chosen token's
 * prob/logprob/entropy then describe the perturbed row, not the model: read only the ids of a
 * sampled generation. One Rng per row keeps a row's draws independent of its batch.
 */
export function nucleusSampler(rng: Rng, o: SamplingOptions): LogitsProcessor {
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature))
    throw new VlmError('VLM_BAD_CONFIG', `temperature must be a finite number > 0: ${o.temperature}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new VlmError('VLM_BAD_CONFIG', `topP must be in (0, 1]: ${o.topP}`);
  return (logits) => {
    const n = logits.length;
    const x = new Float64Array(n);
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      x[i] = logits[i] / o.temperature;
      if (x[i] > m) m = x[i];
    }
    // Nothing left to sample: leave the row as it is for greedyToken to report.
    if (!Number.isFinite(m)) return;
    const keep = new Uint8Array(n);
    if (o.topP >= 1) {
      for (let i = 0; i < n; i++) keep[i] = x[i] > Number.NEGATIVE_INFINITY ? 1 : 0;
    } else {
      const order: number[] = [];
      let z = 0;
      for (let i = 0; i < n; i++)
        if (x[i] > Number.NEGATIVE_INFINITY) {
          order.push(i);
          z += Math.exp(x[i] - m);
        }
      order.sort((a, b) => x[b] - x[a] || a - b);
      let mass = 0;
      for (const i of order) {
        keep[i] = 1;
        mass += Math.exp(x[i] - m);
        if (mass >= o.topP * z) break;
      }
    }
    for (let i = 0; i < n; i++)
      logits[i] = keep[i] ? x[i] - Math.log(-Math.log(openUniform(rng))) : Number.NEGATIVE_INFINITY;
  };
}

export const MAX_TOP_LOGPROBS = 20;

/**
 * The greedy choice of one logits row and its confidences, from a numerically stable softmax:
 * log p_i = x_i − m − log Σ_j exp(x_j − m) with m = max x; entropy H = −Σ p_i log p_i.
 * Ties go to the lowest id.
 */
export function greedyToken(logits: Float32Array, topLogprobs = 0): GeneratedToken {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  const m = logits[best];
  if (!Number.isFinite(m))
    throw new VlmError('VLM_BAD_SEQUENCE', 'every token is banned or logits are not finite');
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - m);
  const logZ = m + Math.log(sum);
  let entropy = 0;
  for (let i = 0; i < logits.length; i++) {
    const lp = logits[i] - logZ;
    if (lp > Number.NEGATIVE_INFINITY) entropy -= Math.exp(lp) * lp;
  }
  const logprob = m - logZ;
  const token: GeneratedToken = { id: best, prob: Math.exp(logprob), logprob, entropy };
  const k = Math.min(Math.max(0, Math.floor(topLogprobs)), MAX_TOP_LOGPROBS, logits.length);
  if (k > 0) token.top = topK(logits, k).map((id) => ({ id, logprob: logits[id] - logZ }));
  return token;
}

/** Ids of the k largest values, largest first (ties: lower id first); k is small. */
function topK(values: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    let at = out.length;
    while (at > 0 && values[i] > values[out[at - 1]]) at--;
    if (at < k) {
      out.splice(at, 0, i);
      if (out.length > k) out.pop();
    }
  }
  return out;
}

export interface EncodedImages {
  /** Per image: (N_img, D) row-major, the decoder's image tokens. */
  imageTokens: Float32Array[];
  /** Per image: (E), L2-normalised (the store's vector and the OOD check's input). */
  embeddings: Float32Array[];
}

/** Runs the encoder on a batch of model inputs (each S×S). */
export async function encodeImages(
  encoder: OrtSession,
  config: VlmConfig,
  images: readonly Float32Array[],
): Promise<EncodedImages> {
  if (images.length === 0) return { imageTokens: [], embeddings: [] };
  const s = config.imageSize;
  const pixels = new Float32Array(images.length * s * s);
  images.forEach((img, b) => {
    if (img.length !== s * s)
      throw new VlmError('VLM_BAD_SEQUENCE', `image ${b} has ${img.length} values, expected ${s}×${s}`);
    pixels.set(img, b * s * s);
  });
  const out = await encoder.run({ image: ortTensor('float32', pixels, [images.length, 1, s, s]) });
  const tokens = out.image_tokens.data as Float32Array;
  const emb = out.embedding.data as Float32Array;
  const n = config.imageTokens * config.decoderDim;
  const e = config.embeddingDim;
  return {
    imageTokens: images.map((_, b) => tokens.slice(b * n, (b + 1) * n)),
    embeddings: images.map((_, b) => emb.slice(b * e, (b + 1) * e)),
  };
}

/** One sequence being decoded. */
export interface DecodeRow {
  /** Index of the request this row answers. */
  request: number;
  promptLength: number;
  maxTokens: number;
  ids: number[];
  tokens: GeneratedToken[];
  /** This row's own processors, applied after the batch's. */
  processors?: readonly LogitsProcessor[];
}

/**
 * A batch in flight: the live rows in tensor order, their KV cache (B, h, T, hd) per layer, attention
 * masks (B, T) and the next-token logits (B, V) not yet consumed.
 */
export interface DecodeBatch {
  rows: DecodeRow[];
  past: Feeds;
  /** Row-major (B, total) 0/1. */
  mask: Uint8Array;
  total: number;
  logits: Float32Array;
}

const ids64 = (xs: readonly number[], dims: number[]) =>
  ortTensor(
    'int64',
    BigInt64Array.from(xs, (x) => BigInt(x)),
    dims,
  );
const mask64 = (mask: Uint8Array, dims: number[]) =>
  ortTensor(
    'int64',
    BigInt64Array.from(mask, (x) => BigInt(x)),
    dims,
  );

/** The last position's logits of every row: (B, T, V) → (B, V). */
function lastLogits(t: ort.Tensor): Float32Array {
  const [b, len, v] = t.dims;
  const data = t.data as Float32Array;
  const out = new Float32Array(b * v);
  for (let r = 0; r < b; r++) out.set(data.subarray((r * len + len - 1) * v, (r * len + len) * v), r * v);
  return out;
}

function presentsAsPast(config: VlmConfig, out: Record<string, ort.Tensor>): Feeds {
  const past: Feeds = {};
  for (let i = 0; i < config.decoderLayers; i++) {
    past[`past.${i}.key`] = out[`present.${i}.key`];
    past[`past.${i}.value`] = out[`present.${i}.value`];
  }
  return past;
}

/**
 * Prefill of one batch: rows = [image tokens][<pad>…][prompt], left-padded to the longest prompt,
 * positions counted from each row's own `<bos>`.
 */
export async function prefill(
  sessions: Pick<ServingSessions, 'prefill'>,
  config: VlmConfig,
  imageTokens: readonly Float32Array[],
  rows: DecodeRow[],
  prompts: readonly number[][],
): Promise<DecodeBatch> {
  const b = rows.length;
  const len = Math.max(...prompts.map((p) => p.length));
  const n = config.imageTokens;
  const total = n + len;
  const ids: number[] = [];
  const pos: number[] = [];
  const mask = new Uint8Array(b * total);
  const tokens = new Float32Array(b * n * config.decoderDim);
  prompts.forEach((p, r) => {
    const pad = len - p.length;
    ids.push(...Array(pad).fill(0), ...p);
    pos.push(...Array(pad).fill(0), ...p.map((_, i) => i));
    mask.fill(1, r * total, r * total + n);
    mask.fill(1, r * total + n + pad, (r + 1) * total);
    tokens.set(imageTokens[r], r * n * config.decoderDim);
  });
  const out = await sessions.prefill.run({
    image_tokens: ortTensor('float32', tokens, [b, n, config.decoderDim]),
    input_ids: ids64(ids, [b, len]),
    position_ids: ids64(pos, [b, len]),
    attention_mask: mask64(mask, [b, total]),
  });
  return { rows, past: presentsAsPast(config, out), mask, total, logits: lastLogits(out.logits) };
}

/** Picks the next token of every live row from the batch's pending logits (processors applied first, then the row's own). */
export function chooseTokens(
  batch: DecodeBatch,
  processors: readonly LogitsProcessor[],
  topLogprobs: number,
): GeneratedToken[] {
  const v = batch.logits.length / Math.max(1, batch.rows.length);
  return batch.rows.map((row, r) => {
    const logits = batch.logits.slice(r * v, (r + 1) * v);
    for (const process of processors) process(logits, row.ids);
    for (const process of row.processors ?? []) process(logits, row.ids);
    return greedyToken(logits, topLogprobs);
  });
}

/** One decode step: feeds each row's latest token, extends masks and cache, refreshes the logits. */
export async function step(
  sessions: Pick<ServingSessions, 'step'>,
  config: VlmConfig,
  batch: DecodeBatch,
): Promise<DecodeBatch> {
  const b = batch.rows.length;
  const total = batch.total + 1;
  const mask = new Uint8Array(b * total);
  for (let r = 0; r < b; r++) {
    mask.set(batch.mask.subarray(r * batch.total, (r + 1) * batch.total), r * total);
    mask[(r + 1) * total - 1] = 1;
  }
  // The token generated k-th (k from 0) sits at text position promptLength + k.
  const out = await sessions.step.run({
    ...batch.past,
    input_ids: ids64(
      batch.rows.map((row) => row.ids.at(-1)!),
      [b, 1],
    ),
    position_ids: ids64(
      batch.rows.map((row) => row.promptLength + row.ids.length - 1),
      [b, 1],
    ),
    attention_mask: mask64(mask, [b, total]),
  });
  return { rows: batch.rows, past: presentsAsPast(config, out), mask, total, logits: lastLogits(out.logits) };
}

/** Rows `keep` (tensor indices, ascending) of a batch: the cache, masks and logits gathered along B. */
export function keepRows(batch: DecodeBatch, keep: readonly number[]): DecodeBatch {
  const b = batch.rows.length;
  if (keep.length === b) return batch;
  const gather = <T extends Float32Array | Uint8Array>(data: T, make: (n: number) => T): T => {
    const size = data.length / b;
    const out = make(keep.length * size);
    keep.forEach((r, i) => {
      out.set(data.subarray(r * size, (r + 1) * size), i * size);
    });
    return out;
  };
  const past: Feeds = {};
  for (const [name, t] of Object.entries(batch.past)) {
    const data = gather(t.data as Float32Array, (n) => new Float32Array(n));
    past[name] = ortTensor('float32', data, [keep.length, ...t.dims.slice(1)]);
  }
  return {
    rows: keep.map((r) => batch.rows[r]),
    past,
    mask: gather(batch.mask, (n) => new Uint8Array(n)),
    total: batch.total,
    logits: gather(batch.logits, (n) => new Float32Array(n)),
  };
}

export interface GeneratorOptions {
  eosId: number;
  /** Applied in order to every logits row (default none: plain argmax of the model). */
  processors?: readonly LogitsProcessor[];
  /** Checked in order after every token (default: `<eos>`, then the token budget). */
  stopping?: readonly StoppingCriterion[];
}

/** Batched generation over one model version's serving sessions: greedy unless a request brings a sampler. */
export class Generator {
  private readonly processors: readonly LogitsProcessor[];
  private readonly stopping: readonly StoppingCriterion[];

  readonly sessions: ServingSessions;
  readonly config: VlmConfig;
  constructor(sessions: ServingSessions, config: VlmConfig, options: GeneratorOptions) {
    this.sessions = sessions;
    this.config = config;
    this.processors = options.processors ?? [];
    this.stopping = options.stopping ?? [stopAtEos(options.eosId), stopAtMaxTokens];
  }

  encodeImages(images: readonly Float32Array[]): Promise<EncodedImages> {
    return encodeImages(this.sessions.encoder, this.config, images);
  }

  /** All requests in one batch; requests that share an image array share one encoder row. */
  async generate(
    requests: readonly GenerationRequest[],
    options: GenerateOptions = {},
  ): Promise<Generation[]> {
    const unique = [...new Set(requests.map((r) => r.image))];
    const { imageTokens } = await this.encodeImages(unique);
    const byImage = new Map(unique.map((img, i) => [img, imageTokens[i]]));
    return this.generateEncoded(
      requests.map((r) => ({
        imageTokens: byImage.get(r.image)!,
        promptIds: r.promptIds,
        maxTokens: r.maxTokens,
        processors: r.processors,
      })),
      options,
    );
  }

  /** Like `generate`, from image tokens (N_img × D) already computed by `encodeImages`. */
  async generateEncoded(
    requests: readonly (Omit<GenerationRequest, 'image'> & { imageTokens: Float32Array })[],
    options: GenerateOptions = {},
  ): Promise<Generation[]> {
    const results: Generation[] = requests.map(() => ({ ids: [], tokens: [], stop: 'max_tokens' }));
    const rows: DecodeRow[] = [];
    requests.forEach((req, i) => {
      const p = req.promptIds.length;
      if (p < 1 || p > this.config.maxSeqLen)
        throw new VlmError(
          'VLM_BAD_SEQUENCE',
          `prompt of ${p} tokens; 1..maxSeqLen ${this.config.maxSeqLen} fit`,
        );
      // Generating n tokens feeds the first n − 1 back, at positions p … p + n − 2 < maxSeqLen.
      const maxTokens = Math.max(0, Math.min(Math.floor(req.maxTokens), this.config.maxSeqLen - p + 1));
      if (maxTokens > 0)
        rows.push({
          request: i,
          promptLength: p,
          maxTokens,
          ids: [],
          tokens: [],
          ...(req.processors ? { processors: req.processors } : {}),
        });
    });
    if (rows.length === 0) return results;
    // Rows share one left-padded cache whose length the causal-mask table bounds (imageTokens + maxSeqLen),
    // so the longest prompt in the batch caps every row's budget too.
    const longest = Math.max(...rows.map((r) => r.promptLength));
    for (const row of rows) row.maxTokens = Math.min(row.maxTokens, this.config.maxSeqLen - longest + 1);
    let batch = await prefill(
      this.sessions,
      this.config,
      rows.map((r) => requests[r.request].imageTokens),
      rows,
      rows.map((r) => requests[r.request].promptIds),
    );
    for (;;) {
      const chosen = chooseTokens(batch, this.processors, options.topLogprobs ?? 0);
      const keep: number[] = [];
      batch.rows.forEach((row, r) => {
        row.ids.push(chosen[r].id);
        row.tokens.push(chosen[r]);
        const stop = this.stopReason(row);
        if (stop) results[row.request] = { ids: row.ids, tokens: row.tokens, stop };
        else keep.push(r);
      });
      if (keep.length === 0) return results;
      batch = await step(this.sessions, this.config, keepRows(batch, keep));
    }
  }

  private stopReason(row: DecodeRow): StopReason | undefined {
    for (const criterion of this.stopping) {
      const stop = criterion(row.ids, row.maxTokens);
      if (stop) return stop;
    }
    return undefined;
  }
}
