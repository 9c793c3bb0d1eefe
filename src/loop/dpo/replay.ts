/**
 * SFT replay for DPO: ordinary instruction samples (tokenised with the same answer-token weighting as
 * SFT, images resolved once per case) fed beside every preference batch, so a preference run keeps the
 * instruction data in view instead of drifting on a few thousand near-identical pairs.
 */

import { Rng } from '../../data/random.ts';
import type { Tokenizer } from '../../data/tokenizer/index.ts';
import type { InstructionSample } from '../../data/types.ts';
import type { DataCase } from '../../inference/offline/index.ts';
import { loadCaseImage, weightAnswerTokens } from '../../model/train/dataset.ts';
import { type TrainingSequence, trainingSequence } from '../../model/vlm/tokens.ts';
import { DpoError } from './errors.ts';

export interface ReplayExample {
  sequence: TrainingSequence;
  /** Shared by every sample of the same case. */
  image: Float32Array;
}

export interface ReplaySource {
  dataDir: string;
  cases: readonly DataCase[];
  samples: readonly InstructionSample[];
  /** SFT's answer-token weight (1 = plain mean NLL). */
  answerWeight: number;
}

export async function buildReplaySet(
  source: ReplaySource,
  o: { tokenizer: Tokenizer; maxSeqLen: number; imageSize: number },
): Promise<ReplayExample[]> {
  const byId = new Map(source.cases.map((c) => [c.id, c]));
  const images = new Map<string, Float32Array>();
  const out: ReplayExample[] = [];
  for (const sample of source.samples) {
    const sequence = trainingSequence(
      o.tokenizer,
      sample.question,
      sample.target_text,
      Number.POSITIVE_INFINITY,
    );
    if (sequence.inputIds.length > o.maxSeqLen) continue;
    const c = byId.get(sample.case_id);
    if (!c) throw new DpoError('DPO_BAD_OPTIONS', `replay sample ${sample.id}: no case ${sample.case_id}`);
    let image = images.get(c.id);
    if (!image) {
      image = await loadCaseImage(source.dataDir, c, o.imageSize);
      images.set(c.id, image);
    }
    out.push({ sequence: weightAnswerTokens(sequence, sample, o.tokenizer, source.answerWeight), image });
  }
  return out;
}

/**
 * The replay rows of every step: step k takes the next `batchSize` of a seeded shuffle of the set,
 * wrapping around (a new shuffle per pass), so consecutive steps never repeat a sample early.
 */
export function replaySchedule(size: number, batchSize: number, seed: number): (step: number) => number[] {
  const passes = new Map<number, number[]>();
  const order = (pass: number) => {
    let o = passes.get(pass);
    if (!o) {
      o = Rng.derive(seed, `replay:${pass}`).shuffle(Array.from({ length: size }, (_, i) => i));
      passes.set(pass, o);
    }
    return o;
  };
  return (step) =>
    Array.from({ length: batchSize }, (_, j) => {
      const k = step * batchSize + j;
      return order(Math.floor(k / size))[k % size];
    });
}
