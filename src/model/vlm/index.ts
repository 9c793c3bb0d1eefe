/**
 * chexpo-tiny: a LLaVA-style VLM defined once (`vlm.ts`, blocks in `layers.ts`) and exported as ONNX
 * graphs for serving and training. Shapes: B batch, H×W = imageSize², N_img = imageTokens, D = decoderDim,
 * E = encoderDim, V = vocabSize, L = decoderLayers, h = decoderHeads, hd = D/h. Floats are float32, ids
 * and masks int64. Symbolic dims (batch, lengths) are free at run time.
 *
 * ## Serving (weights baked in: `servingBytes(buildXGraph(config), config, weights)`)
 *
 * `buildEncoderGraph` — inputs: `image` (B, 1, H, W), from `toModelInput(img, config.imageSize)`.
 * Outputs: `image_tokens` (B, N_img, D); `embedding` (B, E), L2-normalised mean of the encoder's output
 * tokens (the LanceDB vector; cosine = dot product).
 *
 * Two decoder graphs instead of one: the prefill takes the image tokens and no cache, the step takes a
 * cache and no image, so neither needs zero-length dummy inputs (ORT's kernels and the engine's
 * bookkeeping both get simpler), and both are built from the same `decode` function.
 *
 * `buildPrefillGraph` — inputs: `image_tokens` (B, N_img, D); `input_ids` (B, T) = `<bos> prompt <sep>`
 * left-padded with `<pad>` (id 0) to the longest prompt; `position_ids` (B, T) = 0,1,2… from each row's
 * `<bos>` (any valid id, e.g. 0, on padding); `attention_mask` (B, N_img + T) = 1 on image positions and
 * real tokens, 0 on padding. Outputs: `logits` (B, T, V) for the text positions (the next token comes
 * from the last one); `present.<i>.key`, `present.<i>.value` (B, h, N_img + T, hd) for i < L.
 *
 * `buildDecodeStepGraph` — inputs: `input_ids`, `position_ids` (B, T_new) (usually T_new = 1; the
 * position continues each row's own count); `attention_mask` (B, T_past + T_new), the previous mask with
 * ones appended; `past.<i>.key`, `past.<i>.value` (B, h, T_past, hd) = the previous `present.*`.
 * Outputs: `logits` (B, T_new, V); `present.<i>.key/value` (B, h, T_past + T_new, hd).
 * Text positions (prompt + generated) must stay below config.maxSeqLen.
 *
 * ## Training (parameters are graph inputs: `toBytes(g, { parametersAs: 'inputs' })`; feed every
 * parameter by its name from `parameterSpecs(config)`, fetch `grad.<name>` for each)
 *
 * `buildSftGraph` — inputs: `image` (B, 1, H, W); `input_ids`, `target_ids` (B, T) from `tokens.ts`
 * (right-padded; `target_ids` = inputs shifted by one); `loss_mask` (B, T) float, 1 on answer tokens
 * and `<eos>`. Outputs: `loss` () = masked mean token NLL (0 when the mask is empty);
 * `token_logprobs` (B, T); `sequence_logprob` (B) = masked sum (the DPO reference log-prob);
 * `token_count` () = Σ mask (weights micro-batches); `grad.<param>`.
 *
 * `buildScoreGraph` — the same inputs and outputs without gradients (reference log-probs for DPO,
 * answer scoring in evaluation); parameters as inputs, or baked in with `servingBytes`.
 *
 * `buildDpoGraph(config, { beta, lossType, sftWeight, labelSmoothing })` — inputs: `chosen.image`,
 * `chosen.input_ids`, `chosen.target_ids`, `chosen.loss_mask`, and the same under `rejected.` (each side
 * its own image and length T_c / T_r); `ref_chosen_logprob`, `ref_rejected_logprob` (B) = the reference
 * model's `sequence_logprob`; `pair_weight` (B). Outputs: `loss` () = Σ w·L / Σ w (+ sftWeight · chosen
 * NLL); `rewards_chosen`, `rewards_rejected` (B) = β(π − ref); `margins` (B); `accuracy` ();
 * `logprob_chosen`, `logprob_rejected` (B); `grad.<param>`.
 *
 * Weights: `initWeights(config, seed)`, `saveWeights` / `loadWeights` (safetensors, optional fp16 on disk,
 * config in the metadata), `noWeightDecay` for AdamW. The LM head is tied to `dec.wte`.
 */
export { benchMatMul, benchSftStep, forwardMatmulFlops, type MatMulBench, type SftBench } from './bench.ts';
export {
  CHEXPO_TINY,
  CHEXPO_TINY_128,
  type Geometry,
  geometry,
  TEST_TINY,
  type VlmConfig,
} from './config.ts';
export { VlmError, type VlmErrorCode } from './errors.ts';
export { type BuildOptions, ModelBuilder } from './layers.ts';
export { buildDecodeStepGraph, buildEncoderGraph, buildPrefillGraph, servingBytes } from './serving.ts';
export { collate, promptIds, type SequenceBatch, type TrainingSequence, trainingSequence } from './tokens.ts';
export {
  buildDpoGraph,
  buildScoreGraph,
  buildSftGraph,
  DEFAULT_DPO,
  type DpoLossType,
  type DpoOptions,
  type TrainingBuildOptions,
} from './training.ts';
export {
  GRAPH_FILES,
  type GraphName,
  type LoadedVersion,
  loadVersion,
  loadVersionWeights,
  VERSION_FORMAT,
  type VersionFiles,
  WEIGHTS_FILE,
  writeVersion,
} from './version.ts';
export {
  checkWeights,
  countParameters,
  initWeights,
  loadWeights,
  noWeightDecay,
  type ParameterSpec,
  parameterSpecs,
  type SaveOptions,
  saveWeights,
  type Weights,
} from './weights.ts';
