/**
 * The risk calibrator: P(answer wrong) from the confidences the engine emits, fitted on validation
 * predictions and shipped with each model version (JSON).
 *
 * Model: L2-regularised logistic regression on standardised features
 *   logit(answer_prob), logit(min_prob), mean_logprob, task one-hot, unknown-word rate, OOD score,
 * fitted by Newton's method (IRLS; ~10 iterations to machine precision for a dozen features).
 *
 * Why not isotonic or temperature scaling: temperature scaling rescales ONE confidence and Platt
 * scaling is the special case of this model with only logit(answer_prob), so both are contained in
 * it; the extra features (a weak token elsewhere in the span, a question with unseen words, an
 * off-distribution image) are exactly what a single confidence misses. Isotonic regression is
 * univariate, needs thousands of points per task to stop being a staircase, and its flat steps tie
 * many answers at one risk — bad for ranking hard examples for mining. Logits, not raw
 * probabilities, are the inputs so the fit stays monotone-friendly near 0 and 1 (the identity
 * relation of a calibrated model is linear in logit space).
 */
import type { TaskType } from '../data/types.ts';
import { EvaluationError } from './errors.ts';
import { TASKS } from './metric-defs.ts';
import type { Prediction, SampleScore } from './score.ts';
import { binOf } from './tally.ts';

export interface RiskFeatures {
  answer_prob: number;
  min_prob: number;
  mean_logprob: number;
  task: TaskType;
  /** Share of question words outside the tokenizer vocabulary (0 when unknown). */
  unknown_word_rate?: number;
  /** Out-of-distribution score of the image (0 when not measured). */
  ood_score?: number;
}

export interface RiskExample extends RiskFeatures {
  /** 1 = wrong, 0 = right; a fraction for partially right answers (1 − list or report F1). */
  wrong: number;
}

export interface FitOptions {
  /** L2 penalty on the standardised weights (not the bias); default 1. */
  l2?: number;
  /** Newton iterations at most (default 50). */
  maxIterations?: number;
}

export const RISK_FEATURES = [
  'logit_answer_prob',
  'logit_min_prob',
  'mean_logprob',
  ...TASKS.map((t) => `task_${t}`),
  'unknown_word_rate',
  'ood_score',
] as const;

export interface RiskCalibratorJSON {
  schema: 'chexpo.risk/1';
  features: string[];
  mean: number[];
  scale: number[];
  weights: number[];
  bias: number;
  l2: number;
  fitted_on: number;
}

const EPS = 1e-6;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export function featureVector(f: RiskFeatures): number[] {
  return [
    logit(f.answer_prob),
    logit(f.min_prob),
    Math.max(-50, f.mean_logprob),
    ...TASKS.map((t) => (t === f.task ? 1 : 0)),
    f.unknown_word_rate ?? 0,
    f.ood_score ?? 0,
  ];
}

/** Solves A x = b for symmetric positive-definite A (Cholesky); A is d×d row-major. */
function solveSpd(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / l[j * d + j];
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * d + k] * y[k];
    y[i] = s / l[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < d; k++) s -= l[k * d + i] * x[k];
    x[i] = s / l[i * d + i];
  }
  return x;
}

export class RiskCalibrator {
  private readonly json: RiskCalibratorJSON;
  private constructor(json: RiskCalibratorJSON) {
    this.json = json;
  }

  predictRisk(f: RiskFeatures): number {
    const x = featureVector(f);
    const { mean, scale, weights, bias } = this.json;
    let z = bias;
    for (let i = 0; i < x.length; i++) z += weights[i] * ((x[i] - mean[i]) / scale[i]);
    return sigmoid(z);
  }

  /** Weight per feature name on the standardised scale (positive = raises risk). */
  weights(): Record<string, number> {
    return Object.fromEntries(this.json.features.map((name, i) => [name, this.json.weights[i]]));
  }

  toJSON(): RiskCalibratorJSON {
    return structuredClone(this.json);
  }

  static fromJSON(value: unknown): RiskCalibrator {
    const j = value as RiskCalibratorJSON;
    const d = RISK_FEATURES.length;
    const numbers = (a: unknown): boolean => Array.isArray(a) && a.length === d && a.every(Number.isFinite);
    const ok =
      j?.schema === 'chexpo.risk/1' &&
      Array.isArray(j.features) &&
      j.features.join() === RISK_FEATURES.join() &&
      numbers(j.mean) &&
      numbers(j.scale) &&
      j.scale.every((s) => s > 0) &&
      numbers(j.weights) &&
      Number.isFinite(j.bias);
    if (!ok) throw new EvaluationError('BAD_CALIBRATOR', 'not a chexpo.risk/1 calibrator for these features');
    return new RiskCalibrator(structuredClone(j));
  }

  /** Minimises Σ logloss + l2/2 ‖w‖² by Newton's method. */
  static fit(examples: readonly RiskExample[], options: FitOptions = {}): RiskCalibrator {
    if (examples.length === 0) throw new EvaluationError('EMPTY', 'no examples to fit the risk calibrator');
    const l2 = options.l2 ?? 1;
    const maxIterations = options.maxIterations ?? 50;
    const rows = examples.map(featureVector);
    const n = rows.length;
    const d = RISK_FEATURES.length;
    const mean = Array.from({ length: d }, (_, i) => rows.reduce((s, r) => s + r[i], 0) / n);
    const scale = mean.map((m, i) => {
      const sd = Math.sqrt(rows.reduce((s, r) => s + (r[i] - m) ** 2, 0) / n);
      return sd > 1e-9 ? sd : 1;
    });
    // Design matrix with the bias as column d.
    const p = d + 1;
    const x = rows.map((r) => [...r.map((v, i) => (v - mean[i]) / scale[i]), 1]);
    const y = examples.map((e) => Math.min(1, Math.max(0, e.wrong)));
    const theta = new Float64Array(p);
    for (let it = 0; it < maxIterations; it++) {
      const grad = new Float64Array(p);
      const hess = new Float64Array(p * p);
      for (let s = 0; s < n; s++) {
        const xs = x[s];
        let z = 0;
        for (let i = 0; i < p; i++) z += theta[i] * xs[i];
        const q = sigmoid(z);
        const w = Math.max(q * (1 - q), 1e-12);
        for (let i = 0; i < p; i++) {
          grad[i] += (q - y[s]) * xs[i];
          for (let j = 0; j <= i; j++) hess[i * p + j] += w * xs[i] * xs[j];
        }
      }
      for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) hess[j * p + i] = hess[i * p + j];
      for (let i = 0; i < d; i++) {
        grad[i] += l2 * theta[i];
        hess[i * p + i] += l2;
      }
      hess[d * p + d] += 1e-9;
      const step = solveSpd(hess, grad, p);
      let size = 0;
      for (let i = 0; i < p; i++) {
        theta[i] -= step[i];
        size = Math.max(size, Math.abs(step[i]));
      }
      if (size < 1e-10) break;
    }
    return new RiskCalibrator({
      schema: 'chexpo.risk/1',
      features: [...RISK_FEATURES],
      mean,
      scale,
      weights: Array.from(theta.subarray(0, d)),
      bias: theta[d],
      l2,
      fitted_on: n,
    });
  }
}

export interface RiskQuality {
  /** ECE of risk against the wrong-rate (equal-width bins). */
  ece: number;
  brier: number;
  log_loss: number;
}

/** How well predicted risk matches the observed wrong-rate on held-out examples. */
export function riskQuality(
  calibrator: RiskCalibrator,
  examples: readonly RiskExample[],
  bins = 15,
): RiskQuality {
  const n = examples.length;
  if (n === 0) throw new EvaluationError('EMPTY', 'no examples to measure risk quality');
  const gap = new Float64Array(bins);
  let brier = 0;
  let logLoss = 0;
  for (const e of examples) {
    const r = calibrator.predictRisk(e);
    gap[binOf(r, bins)] += e.wrong - r;
    brier += (r - e.wrong) ** 2;
    const q = Math.min(1 - EPS, Math.max(EPS, r));
    logLoss -= e.wrong * Math.log(q) + (1 - e.wrong) * Math.log(1 - q);
  }
  return { ece: gap.reduce((s, g) => s + Math.abs(g), 0) / n, brier: brier / n, log_loss: logLoss / n };
}

/** Share of a question's words the vocabulary does not know (the calibrator's unknown-word feature). */
export function unknownWordRate(question: string, isKnown: (word: string) => boolean): number {
  const words = question.toLowerCase().match(/[a-z]+/g) ?? [];
  return words.length === 0 ? 0 : words.filter((w) => !isKnown(w)).length / words.length;
}

/** Training rows for the calibrator from scored validation predictions (wrong = 1 − score). */
export function riskExamples(
  scores: readonly SampleScore[],
  predictions: readonly Prediction[],
  extra: (sampleId: string) => Pick<RiskFeatures, 'unknown_word_rate' | 'ood_score'> = () => ({}),
): RiskExample[] {
  const bySample = new Map(predictions.map((p) => [p.sample_id, p]));
  return scores.map((s) => {
    const p = bySample.get(s.sample_id);
    if (!p) throw new EvaluationError('MISSING_PREDICTION', `no prediction for sample ${s.sample_id}`);
    const { answer_prob, min_prob, mean_logprob } = p;
    return { answer_prob, min_prob, mean_logprob, task: s.task, ...extra(s.sample_id), wrong: 1 - s.score };
  });
}
