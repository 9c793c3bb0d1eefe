import { appendGradients, type GradientOptions } from '../autodiff/index.ts';
import { Graph, op, type Tensor } from '../graph/index.ts';
import type { VlmConfig } from './config.ts';
import { VlmError } from './errors.ts';
import { type BuildOptions, ModelBuilder } from './layers.ts';
import { findingLogits, type SequenceLogProbs, sequenceLogProbs } from './vlm.ts';

/** Inputs of one side of a batch: image, input ids, target ids, loss mask, named `<prefix>…`. */
/** `batch` names the rows' dimension: inputs sharing a name must have equal sizes (ORT plans buffers so). */
function sequenceInputs(m: ModelBuilder, prefix: string, batch = 'batch'): SequenceLogProbs {
  const g = m.g;
  const s = m.config.imageSize;
  const image = g.input(`${prefix}image`, m.dtype, [batch, 1, s, s]);
  const ids = g.input(`${prefix}input_ids`, 'int64', [batch, `${prefix}text`]);
  const targets = g.input(`${prefix}target_ids`, 'int64', [batch, `${prefix}text`]);
  const mask = g.input(`${prefix}loss_mask`, m.dtype, [batch, `${prefix}text`]);
  return sequenceLogProbs(m, image, ids, targets, mask);
}

export interface TrainingBuildOptions extends BuildOptions {
  /** Gradient rule table (tests plant a wrong rule to prove the whole-model check catches it). */
  rules?: GradientOptions['rules'];
}

/** Appends dLoss/dParam for every parameter as outputs `grad.<name>`. */
function outputGradients(m: ModelBuilder, loss: Tensor, rules: TrainingBuildOptions['rules']): void {
  const grads = appendGradients(m.g, loss, m.parameters, { rules });
  for (const p of m.parameters) m.g.output(grads.get(p.name)!, `grad.${p.name}`);
}

/**
 * SFT: masked mean token cross-entropy on the answer span. Parameters are graph inputs (serialise with
 * `toBytes(g, { parametersAs: 'inputs' })`), so one session serves every step.
 * Inputs: image (B,1,H,W), input_ids (B,T), target_ids (B,T), loss_mask (B,T) float.
 * Outputs: loss (), token_logprobs (B,T), sequence_logprob (B), token_count (), grad.<param>.
 */
export function buildSftGraph(config: VlmConfig, options: SftBuildOptions = {}): Graph {
  const { g, m, loss: nll, seq } = sequenceScoreGraph('chexpo_train_sft', config, options);
  let loss = nll;
  const weight = options.findingLossWeight ?? 0;
  if (config.findingHead && weight > 0) {
    const findings = findingLoss(m, seq.encoded.findingLogits ?? findingLogits(m, seq.encoded.patchFeatures));
    g.output(findings, 'finding_loss');
    g.output(nll, 'token_nll');
    loss = op.add(nll, op.mul(findings, weight));
  }
  g.output(loss, 'loss');
  outputGradients(m, loss, options.rules);
  return g;
}

export interface SftBuildOptions extends TrainingBuildOptions {
  /** Weight of the finding head's BCE beside the token NLL (0 or no head: SFT alone). */
  findingLossWeight?: number;
}

/**
 * Masked mean BCE of the finding head: inputs finding_labels (B, F) 0/1 and finding_mask (B, F), 1 where
 * the label is known. BCE with logits = softplus(l) − y·l, stable for large |l|.
 */
function findingLoss(m: ModelBuilder, logits: Tensor): Tensor {
  const f = m.config.findingHead!;
  const labels = m.g.input('finding_labels', m.dtype, ['batch', f]);
  const mask = m.g.input('finding_mask', m.dtype, ['batch', f]); // logits: (B, F)
  const bce = op.sub(op.softplus(logits), op.mul(labels, logits)); // (B, F)
  const known = op.reduceSum(mask, { keepdims: false }); // ()
  const safe = op.where(op.greater(known, 0), known, 1); // ()
  return op.div(op.reduceSum(op.mul(bce, mask), { keepdims: false }), safe); // ()
}

/**
 * The SFT graph's forward pass without gradients: reference log-probs for DPO, answer scoring in
 * evaluation. Same inputs as `buildSftGraph`; outputs loss, token_logprobs, sequence_logprob, token_count.
 */
export function buildScoreGraph(config: VlmConfig, options: BuildOptions = {}): Graph {
  const { g, loss } = sequenceScoreGraph('chexpo_score', config, options);
  g.output(loss, 'loss');
  return g;
}

/** The forward pass shared by the SFT and score graphs, with their four outputs. */
function sequenceScoreGraph(name: string, config: VlmConfig, options: BuildOptions) {
  const g = new Graph(name);
  const m = new ModelBuilder(g, config, options);
  const seq = sequenceInputs(m, '');
  g.output(seq.tokenLogProbs, 'token_logprobs');
  g.output(seq.sequenceLogProbs, 'sequence_logprob');
  g.output(seq.tokenCount, 'token_count');
  return { g, m, loss: seq.meanNll, seq };
}

export type DpoLossType = 'sigmoid' | 'ipo' | 'robust';

export interface DpoOptions {
  /** Strength of the KL anchor to the reference (β in Rafailov et al.). */
  beta: number;
  /**
   * sigmoid: −(1−ε)·logσ(βh) − ε·logσ(−βh) (DPO; ε > 0 = conservative DPO);
   * ipo: (h − 1/(2β))² (Azar et al., on summed log-probs);
   * robust: (−(1−ε)·logσ(βh) + ε·logσ(−βh)) / (1 − 2ε) (Chowdhury et al., unbiased under label noise ε).
   * h = (π_c − ref_c) − (π_r − ref_r), π = summed answer log-prob.
   */
  lossType: DpoLossType;
  /** Weight of an SFT term (masked mean token NLL of the chosen answer); 0 = none. */
  sftWeight: number;
  /** ε above, in [0, 0.5). */
  labelSmoothing: number;
  /**
   * Weight of mDPO's anchor −log σ(β(π_c − ref_c)) (Wang et al. 2024), which penalises a chosen reward
   * below 0: the chosen answer's likelihood cannot fall while the margin grows. 0 = none.
   */
  anchorWeight: number;
  /**
   * Weight of an SFT replay term: masked mean token NLL of a batch of ordinary SFT samples fed as
   * `replay.{image,input_ids,target_ids,loss_mask}`, so preference steps keep the instruction data in
   * view. 0 = no replay inputs.
   */
  replayWeight: number;
}

export const DEFAULT_DPO: DpoOptions = {
  beta: 0.1,
  lossType: 'sigmoid',
  sftWeight: 0,
  labelSmoothing: 0,
  anchorWeight: 0,
  replayWeight: 0,
};

/** log σ(x) = −softplus(−x), stable for large |x|. */
function logSigmoid(x: Tensor): Tensor {
  return op.neg(op.softplus(op.neg(x)));
}

/** Per-pair DPO loss (B) from the log-ratio difference h (B). */
function pairLoss(h: Tensor, o: DpoOptions): Tensor {
  const z = op.mul(h, o.beta); // (B)
  const eps = o.labelSmoothing;
  switch (o.lossType) {
    case 'sigmoid':
      return eps === 0
        ? op.neg(logSigmoid(z))
        : op.sub(op.mul(logSigmoid(z), -(1 - eps)), op.mul(logSigmoid(op.neg(z)), eps));
    case 'robust':
      return op.div(
        op.add(op.mul(logSigmoid(z), -(1 - eps)), op.mul(logSigmoid(op.neg(z)), eps)),
        1 - 2 * eps,
      );
    case 'ipo': {
      const d = op.sub(h, 1 / (2 * o.beta));
      return op.mul(d, d);
    }
  }
}

/**
 * DPO on chosen/rejected pairs, each side with its own image (image-counterfactual pairs need that).
 * Inputs: chosen.{image,input_ids,target_ids,loss_mask}, rejected.{…} (the two sides may have different
 * lengths), ref_chosen_logprob (B), ref_rejected_logprob (B), pair_weight (B).
 * loss = Σ w·L / Σ w (+ sftWeight · chosen NLL + anchorWeight · anchor + replayWeight · replay NLL). Outputs: loss (), rewards_chosen / rewards_rejected
 * (B) = β(π − ref), margins (B), accuracy () = mean[rewards_chosen > rewards_rejected],
 * logprob_chosen / logprob_rejected (B), grad.<param>.
 */
export function buildDpoGraph(
  config: VlmConfig,
  dpo: Partial<DpoOptions> = {},
  options: TrainingBuildOptions = {},
): Graph {
  const o: DpoOptions = { ...DEFAULT_DPO, ...dpo };
  if (
    !(o.beta > 0) ||
    !(o.labelSmoothing >= 0 && o.labelSmoothing < 0.5) ||
    !(o.sftWeight >= 0 && o.anchorWeight >= 0 && o.replayWeight >= 0)
  )
    throw new VlmError(
      'VLM_BAD_CONFIG',
      'DPO needs beta > 0, 0 ≤ labelSmoothing < 0.5, and sftWeight, anchorWeight, replayWeight ≥ 0',
    );
  const g = new Graph('chexpo_train_dpo');
  const m = new ModelBuilder(g, config, options);
  const chosen = sequenceInputs(m, 'chosen.');
  const rejected = sequenceInputs(m, 'rejected.');
  const refChosen = g.input('ref_chosen_logprob', m.dtype, ['batch']);
  const refRejected = g.input('ref_rejected_logprob', m.dtype, ['batch']);
  const weight = g.input('pair_weight', m.dtype, ['batch']);

  const ratioChosen = op.sub(chosen.sequenceLogProbs, refChosen); // (B)
  const ratioRejected = op.sub(rejected.sequenceLogProbs, refRejected); // (B)
  const perPair = pairLoss(op.sub(ratioChosen, ratioRejected), o); // (B)
  const weightedMean = (perExample: Tensor) =>
    op.div(
      op.reduceSum(op.mul(perExample, weight), { keepdims: false }),
      op.reduceSum(weight, { keepdims: false }),
    ); // ()
  let loss = weightedMean(perPair); // ()
  if (o.sftWeight > 0) loss = op.add(loss, op.mul(chosen.meanNll, o.sftWeight));
  if (o.anchorWeight > 0)
    loss = op.add(
      loss,
      op.mul(weightedMean(op.neg(logSigmoid(op.mul(ratioChosen, o.beta)))), o.anchorWeight),
    );
  // The replay batch has its own size (a short last pair batch still replays a full one).
  if (o.replayWeight > 0)
    loss = op.add(loss, op.mul(sequenceInputs(m, 'replay.', 'replay_batch').meanNll, o.replayWeight));

  const rewardsChosen = op.mul(ratioChosen, o.beta); // (B)
  const rewardsRejected = op.mul(ratioRejected, o.beta); // (B)
  g.output(loss, 'loss');
  g.output(rewardsChosen, 'rewards_chosen');
  g.output(rewardsRejected, 'rewards_rejected');
  g.output(op.sub(rewardsChosen, rewardsRejected), 'margins');
  const wins = op.cast(op.greater(rewardsChosen, rewardsRejected), m.dtype); // (B)
  g.output(op.reduceMean(wins, { keepdims: false }), 'accuracy');
  g.output(chosen.sequenceLogProbs, 'logprob_chosen');
  g.output(rejected.sequenceLogProbs, 'logprob_rejected');
  outputGradients(m, loss, options.rules);
  return g;
}
