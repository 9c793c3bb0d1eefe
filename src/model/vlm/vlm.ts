/**
 * chexpo-tiny, top to bottom: patch embedding → ViT blocks → pooling + projector → causal decoder over
 * [image tokens][text tokens] → LM head tied to the token embedding. Every graph (serving, SFT, DPO) is
 * assembled from these functions, so training and serving run the same arithmetic.
 */
import { type Dim, op, type Tensor } from '../graph/index.ts';
import { block, gelu, type KeyValue, layerNorm, linear, MASKED, type ModelBuilder } from './layers.ts';

/** ONNX's "to the end" for Slice (anything ≥ 2³¹ counts). */
const TO_END = Number.MAX_SAFE_INTEGER;

export interface EncodedImage {
  /** (B, imageTokens, decoderDim): projected image tokens, the decoder's first positions. */
  imageTokens: Tensor;
  /** (B, encoderDim): L2-normalised mean of the encoder's output tokens (the LanceDB vector). */
  embedding: Tensor;
  /** (B, N, encoderDim): the encoder's output per patch, before pooling. */
  patchFeatures: Tensor;
  /** (B, F): the finding head's logits, when the image tokens carry them (config.findingEvidence). */
  findingLogits?: Tensor;
}

/** Image (B, 1, H, W) → image tokens and the pooled embedding. */
export function encodeImage(m: ModelBuilder, image: Tensor): EncodedImage {
  const { grid, patches, patchPixels, pooledGrid, pool } = m.geo;
  const { patchSize: p, encoderDim: e, imageTokens } = m.config;
  // Patchify by reshape: a patch is a (p, p) tile, flattened row-major; patches in raster order.
  let x = op.reshape(image, [-1, grid, p, grid, p]); // (B, gy, py, gx, px)
  x = op.transpose(x, [0, 1, 3, 2, 4]); // (B, gy, gx, py, px)
  x = op.reshape(x, [-1, patches, patchPixels]); // (B, N, P)
  x = op.add(linear(m, x, 'enc.patch'), m.param('enc.pos')); // (B, N, E)
  if (m.geo.stemCells > 0) x = op.add(x, pixelStem(m, image)); // (B, N, E)
  for (let i = 0; i < m.config.encoderLayers; i++)
    x = block(m, x, `enc.blocks.${i}`, m.config.encoderHeads).x; // (B, N, E), bidirectional
  x = layerNorm(m, x, 'enc.ln_f'); // (B, N, E)

  const mean = op.reduceMean(x, { axes: [1], keepdims: false }); // (B, E)
  const norm = op.sqrt(op.add(op.reduceSum(op.mul(mean, mean), { axes: [-1] }), 1e-12)); // (B, 1)
  const embedding = op.div(mean, norm); // (B, E)

  // Average-pool pool×pool windows of the patch grid to keep the decoder sequence short.
  let t = op.reshape(x, [-1, pooledGrid, pool, pooledGrid, pool, e]); // (B, qy, py, qx, px, E)
  t = op.reduceMean(t, { axes: [2, 4], keepdims: false }); // (B, qy, qx, E)
  t = op.reshape(t, [-1, imageTokens, e]); // (B, N_img, E)
  // LLaVA-1.5 projector: Linear → GELU → Linear.
  t = linear(m, gelu(m, linear(m, t, 'proj.fc1')), 'proj.fc2'); // (B, N_img, D)
  if (!m.config.findingEvidence) return { imageTokens: t, embedding, patchFeatures: x };
  const logits = findingLogits(m, x); // (B, F)
  const evidence = op.unsqueeze(linear(m, logits, 'proj.findings'), [1]); // (B, 1, D)
  return { imageTokens: op.add(t, evidence), embedding, patchFeatures: x, findingLogits: logits };
}

/**
 * The pixel stem: sub-patches of side s → Linear → GELU, a patch's sub-patch features concatenated and
 * projected to the encoder width. Sub-patches are taken in raster order inside each patch.
 */
function pixelStem(m: ModelBuilder, image: Tensor): Tensor {
  const { grid, patches, stemCells } = m.geo;
  const s = m.config.stemSubPatch!;
  const q = m.config.patchSize / s; // sub-patches per patch side
  let x = op.reshape(image, [-1, grid, q, s, grid, q, s]); // (B, gy, qy, sy, gx, qx, sx)
  x = op.transpose(x, [0, 1, 4, 2, 5, 3, 6]); // (B, gy, gx, qy, qx, sy, sx)
  x = op.reshape(x, [-1, patches, stemCells, s * s]); // (B, N, C, s²)
  x = gelu(m, linear(m, x, 'enc.stem.fc')); // (B, N, C, W)
  x = op.reshape(x, [-1, patches, stemCells * m.config.stemWidth!]); // (B, N, C·W)
  return linear(m, x, 'enc.stem.proj'); // (B, N, E)
}

/**
 * Per-finding presence logits (B, F) from patch features (B, N, E): a logit per patch, pooled by
 * log-mean-exp (a soft maximum, so a finding seen in one patch counts, and every patch gets gradient).
 */
export function findingLogits(m: ModelBuilder, patchFeatures: Tensor): Tensor {
  const z = linear(m, patchFeatures, 'enc.findings'); // (B, N, F)
  const peak = op.reduceMax(z, { axes: [1], keepdims: true }); // (B, 1, F)
  const sum = op.reduceSum(op.exp(op.sub(z, peak)), { axes: [1], keepdims: false }); // (B, F)
  const lse = op.add(op.log(sum), op.squeeze(peak, [1])); // (B, F)
  return op.sub(lse, Math.log(m.geo.patches)); // (B, F)
}

/** Token + learned position embeddings: ids (B, T), positions (B, T) or (T) int64 → (B, T, D). */
export function embedText(m: ModelBuilder, ids: Tensor, positions: Tensor): Tensor {
  return op.add(op.gather(m.param('dec.wte'), ids), op.gather(m.param('dec.wpe'), positions)); // (B, T, D)
}

/** Text positions 0..T−1 for ids (B, T): a run-time slice of a constant range (T ≤ maxSeqLen). */
export function textPositions(m: ModelBuilder, ids: Tensor): Tensor {
  const g = m.g;
  const range = g.constant(
    'int64',
    Array.from({ length: m.config.maxSeqLen }, (_, i) => i),
  ); // (maxSeqLen)
  const zero = g.constant('int64', [0]);
  const length = op.shapeOf(ids, 1, 2); // (1)
  return g.node('Slice', [range, zero, length, zero], [{ dtype: 'int64', shape: [ids.shape[1]] }])[0]; // (T)
}

/**
 * Additive attention bias for queries that are the last Tq of S positions: causal (key j visible to the
 * query at absolute position i iff j ≤ i) plus, with `attentionMask` (B, S) int64, padding (0 = hidden).
 * Returns (Tq, S) without a mask, (B, 1, Tq, S) with one.
 */
export function attentionBias(m: ModelBuilder, queries: Tensor, keys: Dim, attentionMask?: Tensor): Tensor {
  const g = m.g;
  const limit = m.config.imageTokens + m.config.maxSeqLen;
  const causal = new Float64Array(limit * limit);
  for (let i = 0; i < limit; i++) for (let j = i + 1; j < limit; j++) causal[i * limit + j] = MASKED;
  const table = g.constant(m.dtype, m.dtype === 'float64' ? causal : Float32Array.from(causal), [
    limit,
    limit,
  ]);
  const tq = op.shapeOf(queries, 1, 2); // (1)
  const s = attentionMask ? op.shapeOf(attentionMask, 1, 2) : tq; // (1)
  const starts = op.concat([op.sub(s, tq), g.constant('int64', [0])], 0); // (2)
  const ends = op.concat([s, s], 0); // (2)
  const axes = g.constant('int64', [0, 1]);
  const bias = g.node(
    'Slice',
    [table, starts, ends, axes],
    [{ dtype: m.dtype, shape: [queries.shape[1], keys] }],
  )[0]; // (Tq, S)
  if (!attentionMask) return bias;
  const hidden = op.sub(1, op.cast(attentionMask, m.dtype)); // (B, S), 1 where padded
  const padding = op.unsqueeze(op.mul(hidden, MASKED), [1, 2]); // (B, 1, 1, S)
  return op.add(bias, padding); // (B, 1, Tq, S)
}

export interface Decoded {
  /** (B, T, D) after the final layer norm. */
  hidden: Tensor;
  /** Per layer: keys/values of every position so far, (B, H, S, hd). */
  presents: KeyValue[];
}

/** The causal decoder stack over x (B, T, D), continuing from `past` when given. */
export function decode(m: ModelBuilder, x: Tensor, bias: Tensor, past?: readonly KeyValue[]): Decoded {
  const presents: KeyValue[] = [];
  for (let i = 0; i < m.config.decoderLayers; i++) {
    const out = block(m, x, `dec.blocks.${i}`, m.config.decoderHeads, bias, past?.[i]);
    x = out.x; // (B, T, D)
    presents.push({ key: out.key, value: out.value });
  }
  return { hidden: layerNorm(m, x, 'dec.ln_f'), presents }; // (B, T, D)
}

/** Logits from hidden states with the head tied to the token embedding: (B, T, D) → (B, T, V). */
export function lmHead(m: ModelBuilder, hidden: Tensor): Tensor {
  return op.matmul(hidden, op.transpose(m.param('dec.wte'), [1, 0])); // (B, T, V)
}

/** The text part of a decoder output over [image tokens][text]: (B, N_img + T, ·) → (B, T, ·). */
export function textPart(m: ModelBuilder, x: Tensor): Tensor {
  return op.slice(x, { starts: [m.config.imageTokens], ends: [TO_END], axes: [1] }); // (B, T, ·)
}

export interface SequenceLogProbs {
  /** (B, T): log p(target_t | image, input_≤t). */
  tokenLogProbs: Tensor;
  /** (B): Σ over masked tokens of tokenLogProbs (the DPO policy term). */
  sequenceLogProbs: Tensor;
  /** (): number of masked tokens. */
  tokenCount: Tensor;
  /** (): −mean token log-prob over masked tokens (the SFT loss). */
  meanNll: Tensor;
  encoded: EncodedImage;
}

/**
 * The training forward pass: image (B,1,H,W), input ids (B,T), target ids (B,T) = input ids shifted by
 * one, loss mask (B,T) (1 on answer tokens) → per-token and per-sequence log-probs of the targets.
 */
export function sequenceLogProbs(
  m: ModelBuilder,
  image: Tensor,
  inputIds: Tensor,
  targetIds: Tensor,
  lossMask: Tensor,
): SequenceLogProbs {
  const encoded = encodeImage(m, image);
  const { imageTokens } = encoded; // (B, N_img, D)
  const text = embedText(m, inputIds, textPositions(m, inputIds)); // (B, T, D)
  const x = op.concat([imageTokens, text], 1); // (B, N_img + T, D)
  const { hidden } = decode(m, x, attentionBias(m, x, x.shape[1])); // (B, N_img + T, D)
  const logp = op.logSoftmax(lmHead(m, textPart(m, hidden)), -1); // (B, T, V)
  const picked = op.gatherElements(logp, op.unsqueeze(targetIds, [-1]), 2); // (B, T, 1)
  const tokenLogProbs = op.squeeze(picked, [-1]); // (B, T)
  const masked = op.mul(tokenLogProbs, lossMask); // (B, T)
  const sequence = op.reduceSum(masked, { axes: [1], keepdims: false }); // (B)
  const tokenCount = op.reduceSum(lossMask, { keepdims: false }); // ()
  // Guard the division: an all-zero mask gives loss 0 instead of NaN.
  const safeCount = op.where(op.greater(tokenCount, 0), tokenCount, 1); // ()
  const meanNll = op.neg(op.div(op.reduceSum(sequence, { keepdims: false }), safeCount)); // ()
  return { tokenLogProbs, sequenceLogProbs: sequence, tokenCount, meanNll, encoded };
}
