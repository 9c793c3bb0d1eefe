import { Graph, op, type Tensor, toBytes } from '../graph/index.ts';
import type { VlmConfig } from './config.ts';
import { type BuildOptions, type KeyValue, ModelBuilder } from './layers.ts';
import { attentionBias, decode, embedText, encodeImage, lmHead, textPart } from './vlm.ts';
import { checkWeights, type Weights } from './weights.ts';

/** image (B, 1, H, W) → image_tokens (B, N_img, D), embedding (B, E). */
export function buildEncoderGraph(config: VlmConfig, options: BuildOptions = {}): Graph {
  const g = new Graph('chexpo_encoder');
  const m = new ModelBuilder(g, config, options);
  const image = g.input('image', m.dtype, ['batch', 1, config.imageSize, config.imageSize]);
  const { imageTokens, embedding } = encodeImage(m, image);
  g.output(imageTokens, 'image_tokens');
  g.output(embedding, 'embedding');
  return g;
}

function kvShape(config: VlmConfig, length: string) {
  return ['batch', config.decoderHeads, length, config.decoderDim / config.decoderHeads];
}

function outputLogitsAndPresents(g: Graph, logits: Tensor, presents: readonly KeyValue[]): void {
  g.output(logits, 'logits');
  presents.forEach((kv, i) => {
    g.output(kv.key, `present.${i}.key`);
    g.output(kv.value, `present.${i}.value`);
  });
}

/**
 * Prefill: the whole prompt at once. Sequence = [image tokens][text, left-padded in a batch].
 * image_tokens (B, N_img, D), input_ids / position_ids (B, T) int64, attention_mask (B, N_img + T) int64
 * → logits (B, T, V) for the text positions, present.<i>.key/value (B, H, N_img + T, hd).
 */
export function buildPrefillGraph(config: VlmConfig, options: BuildOptions = {}): Graph {
  const g = new Graph('chexpo_decoder_prefill');
  const m = new ModelBuilder(g, config, options);
  const imageTokens = g.input('image_tokens', m.dtype, ['batch', config.imageTokens, config.decoderDim]);
  const ids = g.input('input_ids', 'int64', ['batch', 'text']);
  const positions = g.input('position_ids', 'int64', ['batch', 'text']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'total']);
  const x = op.concat([imageTokens, embedText(m, ids, positions)], 1); // (B, N_img + T, D)
  const { hidden, presents } = decode(m, x, attentionBias(m, x, 'total', mask));
  outputLogitsAndPresents(g, lmHead(m, textPart(m, hidden)), presents); // (B, T, V)
  return g;
}

/**
 * One decoding step (any number of new tokens) on top of a KV cache:
 * input_ids / position_ids (B, T_new) int64, attention_mask (B, T_past + T_new) int64,
 * past.<i>.key/value (B, H, T_past, hd) → logits (B, T_new, V), present.<i>.key/value (B, H, T_past + T_new, hd).
 */
export function buildDecodeStepGraph(config: VlmConfig, options: BuildOptions = {}): Graph {
  const g = new Graph('chexpo_decoder_step');
  const m = new ModelBuilder(g, config, options);
  const ids = g.input('input_ids', 'int64', ['batch', 'new']);
  const positions = g.input('position_ids', 'int64', ['batch', 'new']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'total']);
  const past: KeyValue[] = [];
  for (let i = 0; i < config.decoderLayers; i++)
    past.push({
      key: g.input(`past.${i}.key`, m.dtype, kvShape(config, 'past')),
      value: g.input(`past.${i}.value`, m.dtype, kvShape(config, 'past')),
    });
  const x = embedText(m, ids, positions); // (B, T_new, D)
  const { hidden, presents } = decode(m, x, attentionBias(m, x, 'total', mask), past);
  outputLogitsAndPresents(g, lmHead(m, hidden), presents); // (B, T_new, V)
  return g;
}

/** Serving bytes: the graph with `weights` baked in as initializers (ORT can pre-pack them). */
export function servingBytes(graph: Graph, config: VlmConfig, weights: Weights): Uint8Array {
  checkWeights(config, weights);
  for (const p of graph.parameters) graph.setValue(p.name, weights[p.name]);
  return toBytes(graph);
}
