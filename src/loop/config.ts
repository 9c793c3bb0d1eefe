/**
 * A loop run's configuration: every stage's knobs with defaults, merged from a partial JSON
 * (`chexpo loop run --config loop.json`) and checked before anything runs.
 *
 * Defaults and why:
 * - mining.limit 4000: scoring costs ~16 ms per sample on 2 cores (generation with the KV cache), so
 *   4000 samples (about 480 cases) take ~1 min; the 5% budget is taken of the whole SFT set.
 * - budgetFraction 0.05: the paper's preference set is 5% of the SFT samples, capped at maxPairs 1000
 *   a round: the three-arm ablation's full loop spent 1,953 pairs over 2 rounds (docs/results.md).
 * - expansion k 4, maxDistance 0.15 (cosine): neighbours further away rarely share the failure.
 * - dpo: the recipe `chexpo experiment --split validation` chose on v0003/v0004 (lr 3e-5, β 0.1, mDPO
 *   anchor 1, SFT replay 1, answer-token focus 3, 2 epochs); the DPO library's own defaults are the
 *   plain-DPO ones of dpo/options.ts.
 * - eval.limit 3000 test samples, paired bootstrap of 1000: the gate's interval on the primary score
 *   is then about ±0.01, narrow enough to see a 2-point gain.
 */

import { defineErrors } from '../errors/define.ts';
import type { GateOptions } from '../eval/gate.ts';
import type { PairKind } from '../store/contract.ts';
import { PAIR_KINDS } from '../store/contract.ts';
import { DEFAULT_DPO_TRAIN, type DpoTrainOptions } from './dpo/options.ts';
import type { ImageDirection } from './pairs/balance.ts';
import type { SelectExtras } from './round.ts';

export interface LoopConfig {
  seed: number;
  /** ORT intra-op threads for every session of the run (the trainer must leave cores to serving). */
  threads: number;
  /**
   * samples: k answers sampled per selected sample (temperature, top-p) for on-policy pairs, 0 = greedy only;
   * fixable: mark invisible and prior-driven samples, which then get image-counterfactual pairs only;
   * encoderAuroc: with fixable, findings the model's finding head separates below this AUROC on
   * `encoderCases` validation cases count as invisible too (mining/encoder-sight.ts; 0 = off).
   */
  mining: {
    limit: number;
    split: 'train';
    samples: number;
    temperature: number;
    topP: number;
    fixable: boolean;
    encoderAuroc: number;
    encoderCases: number;
  };
  expansion: { enabled: boolean; k: number; maxDistance: number };
  live: { enabled: boolean; limit: number };
  balance: { budgetFraction: number; capPerCell: number; maxPairs?: number };
  /**
   * errorRateFloor: weight rule-made pairs by the model's own error rate (pairs/error-rate.ts); unset = off.
   * absentPerPresent: absent-favouring pairs kept per present-favouring one (pairs/balance.ts); unset = 1.
   * imageDirection: how an image counterfactual's direction is read (pairs/balance.ts); unset = 'edit'.
   */
  pairs: {
    kinds: PairKind[];
    maxPerSample: number;
    errorRateFloor?: number;
    absentPerPresent?: number;
    imageDirection?: ImageDirection;
  };
  /** DPO options (see dpo/options.ts for each default and why); seed and threads come from above. */
  dpo: Omit<DpoTrainOptions, 'seed' | 'intraOpThreads'>;
  calibration: { limit: number };
  /**
   * fit: also fit the candidate's closed-answer operating point on the calibration answers
   * (src/inference/operating-point.ts): the most sensitive yes threshold whose POPE adversarial
   * yes-ratio and closed hallucination stay within the limits, which default to the served version's
   * own on the same validation samples (no worse than what serves). On by default: a candidate without
   * one would be judged at another operating point than the version it replaces.
   */
  operatingPoint: { fit: boolean; maxAdversarialYes?: number; maxClosedHallucination?: number };
  eval: { limit: number; seed: number; resamples: number };
  gate: GateOptions;
}

export const DEFAULT_LOOP_CONFIG: LoopConfig = {
  seed: 0,
  threads: 1,
  mining: {
    limit: 4000,
    split: 'train',
    samples: 4,
    temperature: 1,
    topP: 0.95,
    fixable: true,
    encoderAuroc: 0,
    encoderCases: 600,
  },
  expansion: { enabled: true, k: 4, maxDistance: 0.15 },
  live: { enabled: true, limit: 2000 },
  balance: { budgetFraction: 0.05, capPerCell: 60, maxPairs: 1000 },
  pairs: { kinds: [...PAIR_KINDS], maxPerSample: 2 },
  dpo: {
    ...(({ seed: _s, intraOpThreads: _t, ...rest }) => rest)(DEFAULT_DPO_TRAIN),
    learningRate: 3e-5,
    anchorWeight: 1,
    replayWeight: 1,
    focusWeight: 3,
  },
  calibration: { limit: 3000 },
  operatingPoint: { fit: true },
  eval: { limit: 3000, seed: 0, resamples: 1000 },
  gate: {},
};

/** The selection passes the mining settings ask for (round.ts). */
export function miningExtras(c: LoopConfig): SelectExtras {
  const m = c.mining;
  return {
    ...(m.samples > 0 ? { onPolicySamples: { k: m.samples, temperature: m.temperature, topP: m.topP } } : {}),
    fixable: m.fixable,
  };
}

/**
 * A round's budget, from the SFT sample count: `budgetFraction` of it (at least 1) in preference pairs,
 * capped by `maxPairs`, and the samples selected for them (the uncapped share over `maxPerSample`).
 */
export function roundBudget(trainSamples: number, c: LoopConfig): { pairs: number; samples: number } {
  const share = Math.max(1, Math.floor(trainSamples * c.balance.budgetFraction));
  return {
    pairs: Math.max(1, Math.min(share, c.balance.maxPairs ?? Number.POSITIVE_INFINITY)),
    samples: Math.ceil(share / c.pairs.maxPerSample),
  };
}

export class LoopConfigError extends defineErrors('LoopConfigError', {
  LOOP_BAD_CONFIG: {
    when: 'A loop configuration with an unknown stage or setting, or a value out of range: fix the setting the message names.',
  },
}) {
  constructor(message: string) {
    super('LOOP_BAD_CONFIG', message);
  }
}

type Partialish<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

/** Defaults overlaid with `partial`, one level deep per stage; throws on unknown stages or bad values. */
export function resolveLoopConfig(partial: Partialish<LoopConfig> = {}): LoopConfig {
  const out = structuredClone(DEFAULT_LOOP_CONFIG) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in out)) throw new LoopConfigError(`unknown loop setting '${key}'`);
    const base = out[key];
    out[key] =
      base !== null && typeof base === 'object' && !Array.isArray(base)
        ? { ...base, ...(value as object) }
        : value;
  }
  const c = out as unknown as LoopConfig;
  const problems: string[] = [];
  const positive = (name: string, x: number) => {
    if (!(Number.isFinite(x) && x > 0)) problems.push(`${name} must be > 0 (got ${x})`);
  };
  positive('threads', c.threads);
  positive('mining.limit', c.mining.limit);
  if (!(Number.isInteger(c.mining.samples) && c.mining.samples >= 0))
    problems.push(`mining.samples must be a whole number ≥ 0 (got ${c.mining.samples})`);
  positive('mining.temperature', c.mining.temperature);
  if (!(c.mining.encoderAuroc >= 0 && c.mining.encoderAuroc <= 1))
    problems.push(`mining.encoderAuroc must be in [0, 1] (got ${c.mining.encoderAuroc})`);
  positive('mining.encoderCases', c.mining.encoderCases);
  if (!(c.mining.topP > 0 && c.mining.topP <= 1))
    problems.push(`mining.topP must be in (0, 1] (got ${c.mining.topP})`);
  positive('expansion.k', c.expansion.k);
  positive('balance.capPerCell', c.balance.capPerCell);
  positive('dpo.beta', c.dpo.beta);
  positive('dpo.learningRate', c.dpo.learningRate);
  positive('dpo.epochs', c.dpo.epochs);
  positive('dpo.batchSize', c.dpo.batchSize);
  positive('eval.limit', c.eval.limit);
  if (!(c.balance.budgetFraction > 0 && c.balance.budgetFraction <= 1))
    problems.push(`balance.budgetFraction must be in (0, 1] (got ${c.balance.budgetFraction})`);
  for (const k of c.pairs.kinds)
    if (!PAIR_KINDS.includes(k))
      problems.push(`pairs.kinds: unknown kind '${k}' (known: ${PAIR_KINDS.join(', ')})`);
  const floor = c.pairs.errorRateFloor;
  if (floor !== undefined && !(floor >= 0 && floor <= 1))
    problems.push(`pairs.errorRateFloor must be in [0, 1] (got ${floor})`);
  const ratio = c.pairs.absentPerPresent;
  if (ratio !== undefined && !(ratio > 0 && Number.isFinite(ratio)))
    problems.push(`pairs.absentPerPresent must be a positive number (got ${ratio})`);
  for (const k of ['maxAdversarialYes', 'maxClosedHallucination'] as const) {
    const x = c.operatingPoint[k];
    if (x !== undefined && !(x >= 0 && x <= 1))
      problems.push(`operatingPoint.${k} must be in [0, 1] (got ${x})`);
  }
  if (typeof c.operatingPoint.fit !== 'boolean')
    problems.push(`operatingPoint.fit must be true or false (got ${c.operatingPoint.fit})`);
  const imageDirection = c.pairs.imageDirection;
  if (imageDirection !== undefined && imageDirection !== 'edit' && imageDirection !== 'answer')
    problems.push(`pairs.imageDirection must be edit or answer (got ${imageDirection})`);
  if (!['sigmoid', 'ipo', 'robust'].includes(c.dpo.lossType))
    problems.push(`dpo.lossType must be sigmoid, ipo or robust (got ${c.dpo.lossType})`);
  if (problems.length > 0) throw new LoopConfigError(`invalid loop configuration: ${problems.join('; ')}`);
  return c;
}
