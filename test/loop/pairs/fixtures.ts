/** In-memory phantom cases and selected samples for the pair tests (no data set on disk). */
import { synthesizeInstructions } from '../../../src/data/instructions/index.ts';
import { sampleCase } from '../../../src/data/phantom/index.ts';
import { Rng } from '../../../src/data/random.ts';
import type { InstructionSample, PhantomCase } from '../../../src/data/types.ts';
import type { DataCase, RunPrediction } from '../../../src/inference/offline/index.ts';
import type { SelectedSample } from '../../../src/loop/types.ts';

export type PhantomDataCase = PhantomCase & DataCase;

export function phantomCase(seed: number): PhantomDataCase {
  const c = sampleCase(seed);
  return { ...c, images: { png16: `images/${c.id}.png` } };
}

export function samplesOf(c: PhantomCase, seed = 7): InstructionSample[] {
  return synthesizeInstructions(c, Rng.derive(seed, c.id));
}

export function prediction(sample: InstructionSample, text: string): RunPrediction {
  return {
    sample_id: sample.id,
    text,
    answer_prob: 0.5,
    min_prob: 0.5,
    mean_logprob: -0.7,
    task: sample.task,
    ood: 0,
    unknown_word_rate: 0,
    stop: 'eos',
  };
}

/** A selected sample whose model answer is `text` (the reference when omitted: a right answer). */
export function selected(c: DataCase, sample: InstructionSample, text = sample.target_text): SelectedSample {
  const correct = text === sample.target_text;
  return {
    scored: {
      sample,
      case: c,
      prediction: prediction(sample, text),
      score: correct ? 1 : 0,
      correct,
      confidence: 0.5,
      embedding: new Float32Array(4),
    },
    reason: correct ? 'low_confidence' : 'wrong',
  };
}

/** Every sample of `n` phantom cases from consecutive seeds. */
export function corpus(n: number, firstSeed = 1000): { c: PhantomDataCase; sample: InstructionSample }[] {
  const out: { c: PhantomDataCase; sample: InstructionSample }[] = [];
  for (let seed = firstSeed; seed < firstSeed + n; seed++) {
    const c = phantomCase(seed);
    for (const sample of samplesOf(c)) out.push({ c, sample });
  }
  return out;
}
