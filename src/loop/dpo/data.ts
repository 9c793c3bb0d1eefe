/**
 * Preference pairs → DPO training examples: both answers tokenised behind the same prompt with the
 * version's tokenizer, both images resolved to model input once per distinct reference.
 */
import { splitTarget } from '../../data/instructions/target.ts';
import type { Tokenizer } from '../../data/tokenizer/index.ts';
import { weightAnswerTokens } from '../../model/train/dataset.ts';
import { type TrainingSequence, trainingSequence } from '../../model/vlm/tokens.ts';
import type { ImageRef, PairCandidate } from '../types.ts';
import { DpoError } from './errors.ts';

/** Model input (imageSize², normalised as serving does) for one image reference. */
export type ImageResolveFn = (ref: ImageRef) => Promise<Float32Array>;

export interface DpoExample {
  pair: PairCandidate;
  chosen: TrainingSequence;
  rejected: TrainingSequence;
  /** Shared with every example whose reference is the same (one array per distinct ref). */
  chosenImage: Float32Array;
  rejectedImage: Float32Array;
  /** max(chosen, rejected) text positions: what a batch pads to. */
  length: number;
}

export interface DpoDataset {
  examples: DpoExample[];
  /** Pairs dropped because one side exceeds maxSeqLen text positions. */
  tooLong: number;
  /** Pairs dropped because both sides tokenise to the same ids and image (no preference signal). */
  identical: number;
  /** Pairs dropped because their weight is not a positive finite number. */
  badWeight: number;
  /** Distinct images resolved. */
  images: number;
}

export interface DatasetOptions {
  tokenizer: Tokenizer;
  maxSeqLen: number;
  imageSize: number;
  resolveImage: ImageResolveFn;
  /** Answer-bearing tokens count this many times in each side's log-prob (token-level focus); default 1. */
  focusWeight?: number;
}

/** JSON with object keys sorted, so two equal references give the same key whatever their key order. */
export function imageRefKey(ref: ImageRef): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(canonical(ref));
}

function sameIds(a: TrainingSequence, b: TrainingSequence): boolean {
  return a.targetIds.length === b.targetIds.length && a.targetIds.every((id, i) => id === b.targetIds[i]);
}

export async function buildDpoDataset(
  pairs: readonly PairCandidate[],
  o: DatasetOptions,
): Promise<DpoDataset> {
  const tokenised: Array<{ pair: PairCandidate; chosen: TrainingSequence; rejected: TrainingSequence }> = [];
  let tooLong = 0;
  let identical = 0;
  let badWeight = 0;
  for (const pair of pairs) {
    if (!(Number.isFinite(pair.weight) && pair.weight > 0)) {
      badWeight++;
      continue;
    }
    // Tokenise without the limit first so an over-long pair is counted, not thrown.
    const side = (text: string) =>
      weightAnswerTokens(
        trainingSequence(o.tokenizer, pair.prompt, text, Number.POSITIVE_INFINITY),
        { task: pair.provenance.task, answer: splitTarget(text).answer },
        o.tokenizer,
        o.focusWeight ?? 1,
      );
    const chosen = side(pair.chosen);
    const rejected = side(pair.rejected);
    if (chosen.inputIds.length > o.maxSeqLen || rejected.inputIds.length > o.maxSeqLen) {
      tooLong++;
      continue;
    }
    // Unseen words become <unk>: two different strings can tokenise alike and then carry no signal.
    if (sameIds(chosen, rejected) && imageRefKey(pair.chosenImage) === imageRefKey(pair.rejectedImage)) {
      identical++;
      continue;
    }
    tokenised.push({ pair, chosen, rejected });
  }

  const images = new Map<string, Float32Array>();
  const pixels = o.imageSize * o.imageSize;
  const image = async (ref: ImageRef): Promise<Float32Array> => {
    const key = imageRefKey(ref);
    let data = images.get(key);
    if (!data) {
      data = await o.resolveImage(ref);
      if (data.length !== pixels)
        throw new DpoError('DPO_BAD_IMAGE', `${key}: ${data.length} values, the model needs ${pixels}`);
      images.set(key, data);
    }
    return data;
  };
  const examples: DpoExample[] = [];
  for (const t of tokenised)
    examples.push({
      ...t,
      chosenImage: await image(t.pair.chosenImage),
      rejectedImage: await image(t.pair.rejectedImage),
      length: Math.max(t.chosen.inputIds.length, t.rejected.inputIds.length),
    });
  return { examples, tooLong, identical, badWeight, images: images.size };
}
