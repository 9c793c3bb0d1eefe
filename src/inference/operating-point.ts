/**
 * The closed-answer operating point of a version (`operating-point.json`): "yes" is answered only when
 * the model's P(yes) over {yes, no} exceeds `closed_yes_threshold`. It is applied while decoding, as a
 * log(t / (1 − t)) bias on the "no" logit at the first answer token of a closed question, so the
 * reported confidences stay the model's (shifted) probabilities rather than a forced 1.
 *
 * Why: DPO on mined errors moves the yes/no prior wherever the base errs most (docs/results.md: the
 * added "yes" lands on the findings the decoder under-calls), and the direction balance of the pairs
 * does not set it (docs/loop.md). A threshold fitted on the validation split sets it explicitly, the
 * way a radiology product ships an operating point; the gate still judges the result on test.
 */
import type { Tokenizer } from '../data/tokenizer/index.ts';
import type { InstructionSample, LabelledCase } from '../data/types.ts';
import { evaluate, type Prediction } from '../eval/index.ts';
import { EvaluationRunError } from './errors.ts';
import type { LogitsProcessor } from './generate.ts';

export const OPERATING_POINT_FILE = 'operating-point.json';
export const OPERATING_POINT_FORMAT = 'chexpo.operating-point/1';

/** Thresholds tried when fitting, lowest (most sensitive) first; 0.5 is the model's own argmax. */
export const THRESHOLD_GRID = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99];

export interface OperatingPointLimits {
  /** Highest POPE adversarial yes-ratio allowed on the fitting split. */
  maxAdversarialYes: number;
  /** Highest closed-answer hallucination rate allowed on the fitting split. */
  maxClosedHallucination: number;
}

export interface ThresholdRow {
  threshold: number;
  primary: number;
  adversarial_yes: number;
  hallucination_closed: number;
  omission_closed: number;
}

export interface OperatingPoint {
  format: typeof OPERATING_POINT_FORMAT;
  closed_yes_threshold: number;
  /** What it was fitted on and against: split, sample count and the limits. */
  fitted: { split: string; samples: number; limits: OperatingPointLimits; met: boolean };
  /** Every threshold tried, with its metrics on the fitting split (before the bias was applied). */
  table: ThresholdRow[];
}

/** Validates an `operating-point.json` document; undefined when the version has none. */
export function parseOperatingPoint(raw: unknown): OperatingPoint | undefined {
  if (raw === undefined) return undefined;
  const doc = raw as Partial<OperatingPoint>;
  const t = doc?.closed_yes_threshold;
  if (doc?.format !== OPERATING_POINT_FORMAT || typeof t !== 'number' || !(t >= 0.5 && t < 1))
    throw new EvaluationRunError(
      'BAD_OPERATING_POINT',

      `${OPERATING_POINT_FILE}: expected format '${OPERATING_POINT_FORMAT}' and closed_yes_threshold in [0.5, 1), got ${JSON.stringify(raw).slice(0, 120)}`,
    );
  return doc as OperatingPoint;
}

/**
 * The decoding bias of a threshold: at the first generated token, when the model's top token is "yes"
 * or "no" (a yes/no answer, not an open value), log(t / (1 − t)) is added to the "no" logit, so the
 * answer is "yes" exactly when p(yes) / (p(yes) + p(no)) > t.
 */
export function closedAnswerBias(yesId: number, noId: number, threshold: number): LogitsProcessor {
  if (!(threshold >= 0.5 && threshold < 1))
    throw new EvaluationRunError(
      'BAD_OPERATING_POINT',
      `closed_yes_threshold must be in [0.5, 1), got ${threshold}`,
    );
  const bias = Math.log(threshold / (1 - threshold));
  return (logits, generated) => {
    if (generated.length > 0) return;
    let top = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[top]) top = i;
    if (top === yesId || top === noId) logits[noId] += bias;
  };
}

/** The decoding bias of a version's operating-point.json (undefined without one, or at threshold 0.5). */
export function operatingPointBias(tokenizer: Tokenizer, raw: unknown): LogitsProcessor | undefined {
  const op = parseOperatingPoint(raw);
  if (!op || op.closed_yes_threshold === 0.5) return undefined;
  const yes = tokenizer.idOf('yes');
  const no = tokenizer.idOf('no');
  if (yes === undefined || no === undefined)
    throw new EvaluationRunError('BAD_OPERATING_POINT', 'the tokenizer has no "yes" or "no" word');
  return closedAnswerBias(yes, no, op.closed_yes_threshold);
}

/**
 * P(yes) of a closed prediction from its answer-span probability (the yes/no token's), taking the
 * rest of the mass as "no": exact when the first token is a yes/no decision, as on closed questions.
 */
function pYes(p: Prediction): number | undefined {
  const first = p.text
    .trim()
    .toLowerCase()
    .split(/[\s.,]+/)[0];
  if (first === 'yes') return p.answer_prob;
  if (first === 'no') return 1 - p.answer_prob;
  return undefined;
}

/** Closed predictions re-decided at `threshold` (the rationale kept): what the bias would answer (0.5: as they are). */
export function redecideClosed<P extends Prediction>(
  predictions: readonly P[],
  isClosed: (p: P) => boolean,
  threshold: number,
): P[] {
  return predictions.map((p) => {
    const y = isClosed(p) && threshold > 0.5 ? pYes(p) : undefined;
    if (y === undefined) return p;
    const saysYes = p.text.trim().toLowerCase().startsWith('yes');
    const yes = y > threshold;
    if (yes === saysYes) return p;
    const rest = p.text.trim().replace(/^(yes|no)\b\.?/i, '');
    return { ...p, text: `${yes ? 'yes' : 'no'}.${rest}`, answer_prob: yes ? y : 1 - y };
  });
}

/**
 * The most sensitive threshold of the grid whose re-decided predictions stay within both limits (the
 * highest one tried when none does: `met` false). Predictions must be the version's own, unbiased.
 * Without closed questions every threshold answers alike and 0.5 (no bias) is kept.
 */
export function fitOperatingPoint(
  samples: readonly InstructionSample[],
  predictions: readonly Prediction[],
  cases: readonly LabelledCase[],
  limits: OperatingPointLimits,
  split = 'validation',
): OperatingPoint {
  const closed = new Set(samples.filter((s) => s.task === 'closed').map((s) => s.id));
  const metric = (m: Record<string, { value: number }>, k: string) => m[k]?.value ?? 0;
  const table = THRESHOLD_GRID.map((threshold): ThresholdRow => {
    const moved = redecideClosed(predictions, (p) => closed.has(p.sample_id), threshold);
    const { metrics } = evaluate(samples, moved, { cases, resamples: 0 });
    return {
      threshold,
      primary: metric(metrics, 'primary'),
      adversarial_yes: metric(metrics, 'pope.adversarial_yes_ratio'),
      hallucination_closed: metric(metrics, 'hallucination.closed'),
      omission_closed: metric(metrics, 'omission.closed'),
    };
  });
  const ok = (r: ThresholdRow) =>
    r.adversarial_yes <= limits.maxAdversarialYes && r.hallucination_closed <= limits.maxClosedHallucination;
  const chosen = table.find(ok) ?? table.at(-1)!;
  return {
    format: OPERATING_POINT_FORMAT,
    closed_yes_threshold: chosen.threshold,
    fitted: { split, samples: samples.length, limits, met: ok(chosen) },
    table,
  };
}
