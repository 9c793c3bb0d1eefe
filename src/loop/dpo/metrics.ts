/**
 * What a DPO run reports: TRL-named statistics per step (so curves read like a TRL DPOTrainer log), a
 * summary for the run record, and curves (Vega-Lite specs, src/plots) — loss, margins, accuracy, and
 * chosen vs rejected log-prob change from the reference, the likelihood-displacement check (both falling means DPO widens the margin by pushing
 * the chosen answer down too, Razin et al. 2024).
 */
import type { StepLog } from '../../model/train/run-training.ts';
import type { PlotSpec } from '../../plots/render.ts';
import { dpoSpecs } from '../../plots/training.ts';
import type { PairLogProbs } from './reference.ts';

/** One optimiser step, with TRL DPOTrainer's log keys (batch means). */
export interface DpoStepStats {
  step: number;
  epoch: number;
  loss: number;
  'rewards/chosen': number;
  'rewards/rejected': number;
  'rewards/margins': number;
  'rewards/accuracies': number;
  'logps/chosen': number;
  'logps/rejected': number;
  learning_rate: number;
  grad_norm: number;
  /** Image and text positions processed in the step (both sides and any replay batch). */
  tokens: number;
  ms: number;
}

export const TRL_KEYS = [
  'loss',
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'rewards/accuracies',
  'logps/chosen',
  'logps/rejected',
  'learning_rate',
  'grad_norm',
] as const;

export function stepStats(log: StepLog): DpoStepStats {
  return {
    step: log.step,
    epoch: log.epoch,
    loss: log.loss,
    'rewards/chosen': log.stats.rewards_chosen,
    'rewards/rejected': log.stats.rewards_rejected,
    'rewards/margins': log.stats.margins,
    'rewards/accuracies': log.stats.accuracy,
    'logps/chosen': log.stats.logprob_chosen,
    'logps/rejected': log.stats.logprob_rejected,
    learning_rate: log.lr,
    grad_norm: log.gradNorm,
    tokens: log.tokens,
    ms: log.ms,
  };
}

/** The run record's `dpo` block (src/loop/record.ts), plus whole-set figures before/after training. */
export interface DpoSummary {
  steps: number;
  /** Means over the last `summaryWindow` steps. */
  final_loss: number;
  final_margin: number;
  final_accuracy: number;
  /** Mean over all pairs of π_after − π_before (summed answer log-prob, nats), from a full re-score. */
  logp_chosen_change: number;
  logp_rejected_change: number;
  minutes: number;
  /** Whole pair set re-scored with the trained weights: share with reward_chosen > reward_rejected. */
  train_set_accuracy: number;
  /** …and its mean margin β[(π_c − ref_c) − (π_r − ref_r)]. */
  train_set_margin: number;
  /** The same two figures on held-out pairs (validation patients); null when none were given. */
  heldout_accuracy: number | null;
  heldout_margin: number | null;
  heldout_pairs: number;
  /** Image and text positions processed over the run. */
  tokens: number;
  mean_ms_per_step: number;
}

/** The summary fields a run record keeps (its `dpo` block, src/loop/record.ts), in the record's order. */
export const RUN_RECORD_DPO_KEYS = [
  'steps',
  'final_loss',
  'final_margin',
  'final_accuracy',
  'logp_chosen_change',
  'logp_rejected_change',
  'minutes',
] as const;

export type RunRecordDpo = Pick<DpoSummary, (typeof RUN_RECORD_DPO_KEYS)[number]>;

/** The run record's `dpo` block of a summary. */
export function runRecordDpo(summary: DpoSummary): RunRecordDpo {
  return Object.fromEntries(RUN_RECORD_DPO_KEYS.map((k) => [k, summary[k]])) as RunRecordDpo;
}

function mean(xs: readonly number[]): number {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

export function summarize(
  steps: readonly DpoStepStats[],
  before: PairLogProbs,
  after: PairLogProbs,
  o: {
    beta: number;
    summaryWindow: number;
    minutes: number;
    heldOut?: { before: PairLogProbs; after: PairLogProbs } | null;
  },
): DpoSummary {
  const tail = steps.slice(-o.summaryWindow);
  const n = before.chosen.length;
  const change = (side: keyof PairLogProbs) =>
    mean(Array.from({ length: n }, (_, i) => after[side][i] - before[side][i]));
  const marginsOf = (b: PairLogProbs, a: PairLogProbs) =>
    Array.from(
      { length: b.chosen.length },
      (_, i) => o.beta * (a.chosen[i] - b.chosen[i] - (a.rejected[i] - b.rejected[i])),
    );
  const margins = marginsOf(before, after);
  const held = o.heldOut ? marginsOf(o.heldOut.before, o.heldOut.after) : null;
  return {
    steps: steps.length,
    final_loss: mean(tail.map((s) => s.loss)),
    final_margin: mean(tail.map((s) => s['rewards/margins'])),
    final_accuracy: mean(tail.map((s) => s['rewards/accuracies'])),
    logp_chosen_change: change('chosen'),
    logp_rejected_change: change('rejected'),
    minutes: o.minutes,
    train_set_accuracy: mean(margins.map((m) => (m > 0 ? 1 : 0))),
    train_set_margin: mean(margins),
    heldout_accuracy: held ? mean(held.map((m) => (m > 0 ? 1 : 0))) : null,
    heldout_margin: held ? mean(held) : null,
    heldout_pairs: held?.length ?? 0,
    tokens: steps.reduce((n, s) => n + s.tokens, 0),
    // The first step includes ORT's warm-up (arena growth); leave it out when there are others.
    mean_ms_per_step: mean((steps.length > 1 ? steps.slice(1) : steps).map((s) => s.ms)),
  };
}

/** The curves' specs by PNG file name (smoothed over ~5% of the run); `beta` turns rewards into log-prob changes. */
export function dpoPlots(steps: readonly DpoStepStats[], beta: number): Record<string, PlotSpec> {
  return dpoSpecs(steps, beta);
}

export function progressLine(s: DpoStepStats, totalSteps: number): string {
  return [
    `dpo step ${s.step + 1}/${totalSteps} epoch ${s.epoch}`,
    `loss ${s.loss.toFixed(4)}`,
    `acc ${s['rewards/accuracies'].toFixed(2)}`,
    `margin ${s['rewards/margins'].toFixed(3)}`,
    `logp c ${s['logps/chosen'].toFixed(2)} r ${s['logps/rejected'].toFixed(2)}`,
    `lr ${s.learning_rate.toExponential(2)}`,
    `grad ${s.grad_norm.toFixed(2)}`,
    `${s.ms.toFixed(0)} ms`,
  ].join(' | ');
}
