/**
 * Preference pairs for one selected sample: every applicable rule drafts at most one rejected
 * answer, then up to `maxPerSample` kinds are kept — the model's own wrong answer first (it is the
 * failure at hand), the rest drawn without replacement in proportion to their weights. Everything
 * random comes from streams derived from (seed, sample id, kind), so a sample's pairs do not depend
 * on which other samples were selected.
 */
import { defaultPhantomConfig, type PhantomConfig } from '../../data/phantom/index.ts';
import { Rng } from '../../data/random.ts';
import { PAIR_KINDS, type PairKind } from '../../store/contract.ts';
import { keepFixable } from '../mining/fixable.ts';
import type { ImageRef, PairCandidate, SelectedSample } from '../types.ts';
import { sentenceCase } from './casing.ts';
import { errorRateWeight } from './error-rate.ts';
import { PairsError } from './errors.ts';
import { encodeImageRef } from './image-ref.ts';
import { confusableDraft } from './kinds/confusable.ts';
import type { Draft, GeneratorContext, PairGenerator } from './kinds/context.ts';
import { cooccurrenceDraft } from './kinds/cooccurrence.ts';
import { imageCounterfactualDraft } from './kinds/image-counterfactual.ts';
import { lateralityDraft } from './kinds/laterality.ts';
import { locationDraft } from './kinds/location.ts';
import { negationDraft } from './kinds/negation.ts';
import { onPolicyDraft } from './kinds/on-policy.ts';
import { severityDraft } from './kinds/severity.ts';
import { DEFAULT_KIND_WEIGHTS } from './weights.ts';

export const PAIR_GENERATORS: Readonly<Record<PairKind, PairGenerator>> = {
  negation: negationDraft,
  laterality: lateralityDraft,
  severity: severityDraft,
  location: locationDraft,
  confusable: confusableDraft,
  cooccurrence: cooccurrenceDraft,
  on_policy: onPolicyDraft,
  image_counterfactual: imageCounterfactualDraft,
};

export interface PairsOptions {
  /** Kinds allowed (default: all). */
  kinds?: readonly PairKind[];
  /** At most this many pairs (of distinct kinds) per sample; default 2. */
  maxPerSample?: number;
  seed: number;
  /** Per-kind weights overriding DEFAULT_KIND_WEIGHTS. */
  weights?: Partial<Record<PairKind, number>>;
  /** The data set's phantom configuration (for 'add' edits and hallucinated attributes). */
  phantomConfig?: PhantomConfig;
  /**
   * When set, a rule-made pair's weight is its kind weight × (floor + (1 − floor) × how often the
   * model's own answers state that error) (error-rate.ts); unset, kind weights only.
   */
  errorRateFloor?: number;
}

export const DEFAULT_MAX_PER_SAMPLE = 2;

/** The image a sample is shown with: a live hard example's stored image, else the data set's case image. */
export function sampleImage(selected: SelectedSample): ImageRef {
  const c = selected.scored.case;
  if (selected.reason === 'live_feedback' && !c.images.png16 && !c.images.source)
    return { kind: 'hard_example', id: c.id };
  return { kind: 'case', case_id: c.id };
}

function checkOptions(options: PairsOptions): void {
  const max = options.maxPerSample ?? DEFAULT_MAX_PER_SAMPLE;
  if (!Number.isInteger(max) || max < 1)
    throw new PairsError('PAIRS_BAD_OPTIONS', `maxPerSample must be a whole number ≥ 1: ${max}`);
  const floor = options.errorRateFloor;
  if (floor !== undefined && !(floor >= 0 && floor <= 1))
    throw new PairsError('PAIRS_BAD_OPTIONS', `errorRateFloor must lie in [0, 1]: ${floor}`);
  for (const k of options.kinds ?? [])
    if (!PAIR_KINDS.includes(k)) throw new PairsError('PAIRS_BAD_OPTIONS', `unknown pair kind '${k}'`);
}

/** Every applicable kind's draft for this sample (before the per-sample cap; unfixable samples: image counterfactuals only). */
export function draftsFor(selected: SelectedSample, options: PairsOptions): Draft[] {
  checkOptions(options);
  const { sample, case: truth } = selected.scored;
  const drafts: Draft[] = [];
  const seen = new Set<string>();
  // On-policy first: a synthetic draft that repeats the model's own answer is the duplicate.
  const kinds = [...(options.kinds ?? PAIR_KINDS)].sort(
    (a, b) => Number(b === 'on_policy') - Number(a === 'on_policy'),
  );
  for (const kind of kinds) {
    // A sample marked unfixable (mining/fixable.ts) keeps only the kinds that target it.
    if (!keepFixable(selected, kind)) continue;
    const ctx: GeneratorContext = {
      selected,
      sample,
      truth,
      chosen: sample.target_text,
      rng: Rng.derive(options.seed, `pairs:${sample.id}:${kind}`),
      phantomConfig: options.phantomConfig ?? defaultPhantomConfig,
    };
    const draft = PAIR_GENERATORS[kind](ctx);
    if (!draft) continue;
    const key = `${draft.rejected}\u0000${draft.rejectedImage ? encodeImageRef(draft.rejectedImage) : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    drafts.push(draft);
  }
  return drafts;
}

function weightOf(kind: PairKind, options: PairsOptions): number {
  return options.weights?.[kind] ?? DEFAULT_KIND_WEIGHTS[kind];
}

/** A draft's weight: its kind's, scaled by the model's own error rate when that is asked for. */
function draftWeight(d: Draft, selected: SelectedSample, options: PairsOptions): number {
  return errorRateWeight(d.kind, weightOf(d.kind, options), selected, d.rejected, options.errorRateFloor);
}

/** Up to maxPerSample drafts: on-policy first, then a weighted draw without replacement. */
function pick(drafts: Draft[], selected: SelectedSample, options: PairsOptions): Draft[] {
  const max = options.maxPerSample ?? DEFAULT_MAX_PER_SAMPLE;
  const kept = drafts.filter((d) => d.kind === 'on_policy').slice(0, max);
  const rest = drafts.filter((d) => d.kind !== 'on_policy');
  const rng = Rng.derive(options.seed, `pairs:${selected.scored.sample.id}:pick`);
  while (kept.length < max && rest.length > 0) {
    const i = rng.weighted(rest.map((d) => draftWeight(d, selected, options)));
    kept.push(rest.splice(i, 1)[0]);
  }
  return kept;
}

export function pairsFor(selected: SelectedSample, options: PairsOptions): PairCandidate[] {
  const { sample } = selected.scored;
  const image = sampleImage(selected);
  // One casing on both sides (casing.ts): only the content may tell chosen from rejected.
  return pick(draftsFor(selected, options), selected, options).map((d) => ({
    prompt: sample.question,
    chosen: sentenceCase(sample.target_text),
    rejected: sentenceCase(d.rejected),
    kind: d.kind,
    weight: draftWeight(d, selected, options),
    chosenImage: image,
    rejectedImage: d.rejectedImage ?? image,
    provenance: {
      sample_id: sample.id,
      case_id: sample.case_id,
      task: sample.task,
      ...(sample.finding ? { finding: sample.finding } : {}),
      reason: selected.reason,
      generator: d.generator,
      seed: options.seed,
    },
  }));
}

/** Pairs for every selected sample, in order. */
export function pairsForAll(selected: readonly SelectedSample[], options: PairsOptions): PairCandidate[] {
  return selected.flatMap((s) => pairsFor(s, options));
}
