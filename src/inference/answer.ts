/**
 * One answer as inference produces it, for whoever asks: the serving engine's workers, and the HTTP
 * edge (src/server/services.ts), which builds its wire shapes from these. The confidence names
 * (`min_prob`, `mean_logprob`, `answer_prob`, `top_logprobs`) are the ones evaluation, the risk
 * calibrator's features, the hard-example store and the API all use, so they pass through unrenamed.
 */

export type AnswerTask = 'vqa' | 'report';

export interface AnswerSpan {
  kind: 'yes_no' | 'option' | 'value' | 'finding';
  text: string;
  confidence: number;
  finding?: string;
  start?: number;
  end?: number;
}

export interface TokenConfidence {
  token: string;
  prob: number;
  logprob: number;
  entropy?: number;
  top_logprobs?: { token: string; logprob: number }[];
}

/** Answer-level confidences, as `answerConfidence` defines them. */
export interface AnswerConfidence {
  min_prob: number;
  mean_logprob: number;
  answer_prob: number;
}

/** Milliseconds of one answer: waiting, decoding the image, the encoder, generation, and in all. */
export interface AnswerTimings {
  queue: number;
  preprocess: number;
  encode: number;
  generate: number;
  total: number;
}

export interface ModelInfo {
  name: string;
  version: string;
}

/** `stop`: the model ended the answer (<eos>); `length`: the token budget cut it off. */
export type FinishReason = 'stop' | 'length';
