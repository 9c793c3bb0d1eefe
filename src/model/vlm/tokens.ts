import type { Tokenizer } from '../../data/tokenizer/index.ts';
import { VlmError } from './errors.ts';

/** One training sequence: text = <bos> prompt <sep> target <eos>; inputs = text[:-1], targets = text[1:]. */
export interface TrainingSequence {
  inputIds: number[];
  targetIds: number[];
  /** 1 where the target is an answer token (or the closing <eos>), 0 on the prompt. */
  lossMask: number[];
}

/** The prompt as the decoder sees it before generating: <bos> prompt <sep>. */
export function promptIds(tokenizer: Tokenizer, prompt: string): number[] {
  return [tokenizer.bosId, ...tokenizer.encode(prompt).ids, tokenizer.sepId];
}

/** (ids, targets, mask) for one prompt/answer pair; throws when the text exceeds `maxSeqLen` positions. */
export function trainingSequence(
  tokenizer: Tokenizer,
  prompt: string,
  target: string,
  maxSeqLen: number,
): TrainingSequence {
  const head = promptIds(tokenizer, prompt);
  const text = [...head, ...tokenizer.encode(target).ids, tokenizer.eosId];
  const inputIds = text.slice(0, -1);
  if (inputIds.length > maxSeqLen)
    throw new VlmError('VLM_BAD_SEQUENCE', `${inputIds.length} text positions exceed maxSeqLen ${maxSeqLen}`);
  // Input position t predicts text[t + 1]; the first answer token is predicted at the <sep> position.
  const answerStart = head.length - 1;
  return {
    inputIds,
    targetIds: text.slice(1),
    lossMask: inputIds.map((_, t) => (t >= answerStart ? 1 : 0)),
  };
}

export interface SequenceBatch {
  batch: number;
  length: number;
  /** (B, T) row-major, right-padded with <pad> (id 0). */
  inputIds: BigInt64Array;
  targetIds: BigInt64Array;
  /** (B, T), 0 on padding. */
  lossMask: Float32Array;
}

/** Right-pads sequences to the longest one (causal attention never lets padding reach real tokens). */
export function collate(sequences: readonly TrainingSequence[], padId = 0): SequenceBatch {
  const batch = sequences.length;
  const length = Math.max(1, ...sequences.map((s) => s.inputIds.length));
  const inputIds = new BigInt64Array(batch * length).fill(BigInt(padId));
  const targetIds = new BigInt64Array(batch * length).fill(BigInt(padId));
  const lossMask = new Float32Array(batch * length);
  sequences.forEach((s, b) => {
    s.inputIds.forEach((id, t) => {
      inputIds[b * length + t] = BigInt(id);
      targetIds[b * length + t] = BigInt(s.targetIds[t]);
      lossMask[b * length + t] = s.lossMask[t];
    });
  });
  return { batch, length, inputIds, targetIds, lossMask };
}
