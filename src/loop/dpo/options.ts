/**
 * DPO run options and their defaults, chosen from a measurement (scratch scripts, not in the repo) on
 * the bundled chexpo-tiny v0001: 200
 * negation pairs from synth-10k closed questions (chosen = target, rejected = flipped answer + another
 * case's rationale), 2 epochs of batch 8 = 50 steps, 1 ORT thread, ~0.5 s/step on a quiet machine
 * (0.7–0.9 s under load). Held-out check on 200 validation pairs (greedy yes/no accuracy; base 0.695):
 *   lr 1e-4, β 0.1, no SFT term        → train-set reward accuracy 0.70, chosen logp −0.45 nats, held-out 0.550
 *     (the yes-ratio fell from 0.45 to 0.10: 58% of the pairs chose "no", and DPO shifted the prior)
 *   lr 3e-5                            → margin 0.08 only, held-out 0.615
 *   β 0.5                              → margin 0.86, held-out 0.615
 *   sftWeight 1                        → chosen logp +0.04, held-out 0.605
 *   pairs balanced yes/no              → held-out 0.645
 *   balanced + sftWeight 1             → train-set accuracy 0.82, chosen logp +0.16, held-out 0.695 (= base)
 * So: the SFT term (RPO-style, weight 1) is on by default — it stopped likelihood displacement and
 * was worth ~5 points held-out in both settings — and the pair set must be balanced per answer (mining).
 *
 * Learning rate 2e-5, not the 1e-4 of that 50-step sweep: at the loop's real size (1,174 pairs, 294
 * steps) 1e-4 over-optimised every arm of `chexpo experiment` (CheXPO arm −25% primary, choice questions
 * answered with options never offered), 2e-5 kept it at the SFT model's level (docs/results.md).
 */
import { availableParallelism } from 'node:os';
import type { DpoLossType } from '../../model/vlm/training.ts';
import { DpoError } from './errors.ts';

export interface DpoTrainOptions {
  /** β: strength of the implicit KL anchor to the reference; rewards are β(π − ref). */
  beta: number;
  /** sigmoid (DPO), ipo, or robust (label-noise-robust DPO). */
  lossType: DpoLossType;
  /** Weight of an SFT term on the chosen answer (RPO-style), guarding against likelihood displacement. */
  sftWeight: number;
  /** ε: assumed share of flipped preference labels (conservative / robust DPO), in [0, 0.5). */
  labelSmoothing: number;
  /** Weight of mDPO's anchor on the chosen reward (it cannot fall below the reference's); 0 = none. */
  anchorWeight: number;
  /** Weight of the SFT replay term (a batch of ordinary SFT samples each step); 0 = no replay. */
  replayWeight: number;
  /** SFT samples per step in the replay term. */
  replayBatchSize: number;
  /** Answer-token weight of the replayed SFT samples (SFT's own: 3 for v0003). */
  replayAnswerWeight: number;
  /**
   * Token-level focus: answer-bearing tokens (the short answer; a report's finding words) count this many
   * times in both sides' summed log-probs, so shared template text does not dilute the log-ratio. 1 = off.
   */
  focusWeight: number;
  /** Peak AdamW learning rate. */
  learningRate: number;
  /** Share of the run's steps spent on linear warm-up. */
  warmupRatio: number;
  /** Cosine decay ends at learningRate × minLrRatio. */
  minLrRatio: number;
  epochs: number;
  /** Pairs per step (each pair is two sequences). */
  batchSize: number;
  /** AdamW decoupled weight decay. 0: decay pulls toward zero, not toward the reference. */
  weightDecay: number;
  /** Global gradient-norm clip (0 = none). */
  maxGradNorm: number;
  /** Batch order. */
  seed: number;
  /** ORT intra-op threads of the trainer; capped at the machine's cores (serving shares them). */
  intraOpThreads: number;
  /** A progress line every N steps. */
  logEvery: number;
  /** The summary's final loss/margin/accuracy average the last N steps. */
  summaryWindow: number;
}

export const DEFAULT_DPO_TRAIN: DpoTrainOptions = {
  beta: 0.1,
  lossType: 'sigmoid',
  sftWeight: 1,
  labelSmoothing: 0,
  anchorWeight: 0,
  replayWeight: 0,
  replayBatchSize: 8,
  replayAnswerWeight: 3,
  focusWeight: 1,
  learningRate: 2e-5,
  warmupRatio: 0.1,
  minLrRatio: 0.1,
  epochs: 2,
  batchSize: 8,
  weightDecay: 0,
  maxGradNorm: 1,
  seed: 1,
  intraOpThreads: 1,
  logEvery: 10,
  summaryWindow: 10,
};

/** Defaults filled in, threads capped, ranges checked. */
export function resolveDpoOptions(partial: Partial<DpoTrainOptions> = {}): DpoTrainOptions {
  const o: DpoTrainOptions = { ...DEFAULT_DPO_TRAIN, ...partial };
  const bad: string[] = [];
  const positiveInt = (k: keyof DpoTrainOptions) => {
    if (!(Number.isInteger(o[k]) && (o[k] as number) >= 1)) bad.push(`${k} ${o[k]}`);
  };
  if (!(o.beta > 0)) bad.push(`beta ${o.beta}`);
  if (!['sigmoid', 'ipo', 'robust'].includes(o.lossType)) bad.push(`lossType ${o.lossType}`);
  if (!(o.sftWeight >= 0)) bad.push(`sftWeight ${o.sftWeight}`);
  if (!(o.labelSmoothing >= 0 && o.labelSmoothing < 0.5)) bad.push(`labelSmoothing ${o.labelSmoothing}`);
  if (!(o.anchorWeight >= 0)) bad.push(`anchorWeight ${o.anchorWeight}`);
  if (!(o.replayWeight >= 0)) bad.push(`replayWeight ${o.replayWeight}`);
  if (!(o.replayAnswerWeight >= 1)) bad.push(`replayAnswerWeight ${o.replayAnswerWeight} (≥ 1)`);
  if (!(o.focusWeight >= 1)) bad.push(`focusWeight ${o.focusWeight} (≥ 1)`);
  if (!(o.learningRate > 0)) bad.push(`learningRate ${o.learningRate}`);
  if (!(o.warmupRatio >= 0 && o.warmupRatio < 1)) bad.push(`warmupRatio ${o.warmupRatio}`);
  if (!(o.minLrRatio >= 0 && o.minLrRatio <= 1)) bad.push(`minLrRatio ${o.minLrRatio}`);
  if (!(o.weightDecay >= 0)) bad.push(`weightDecay ${o.weightDecay}`);
  if (!(o.maxGradNorm >= 0)) bad.push(`maxGradNorm ${o.maxGradNorm}`);
  for (const k of [
    'epochs',
    'batchSize',
    'replayBatchSize',
    'intraOpThreads',
    'logEvery',
    'summaryWindow',
  ] as const)
    positiveInt(k);
  if (bad.length > 0) throw new DpoError('DPO_BAD_OPTIONS', bad.join(', '));
  return { ...o, intraOpThreads: Math.min(o.intraOpThreads, availableParallelism()) };
}
