/**
 * The API view of one generation: its text, token list and answer-level confidences. The spans and
 * confidences come from ./confidence.ts (the same definitions evaluation and the risk
 * calibrator are fitted on: answer_prob = Π p over the short answer, or the weakest finding
 * statement of a report); this file only shapes them for the response and drops `<eos>` from the
 * token list.
 */
import type { Tokenizer } from '../data/tokenizer/index.ts';
import type { AnswerConfidence, AnswerSpan, AnswerTask, TokenConfidence } from './answer.ts';
import { answerConfidence } from './confidence.ts';
import type { GeneratedToken } from './generate.ts';

export interface ScoredAnswer {
  answer: string;
  /** The short answer (first span) for vqa, the whole text for a report. */
  shortAnswer: string;
  answerSpan: AnswerSpan[];
  tokens: TokenConfidence[];
  confidence: AnswerConfidence;
}

/** `generated` is every generated token, a final `<eos>` included when the model produced one. */
export function scoreAnswer(
  tokenizer: Tokenizer,
  generated: readonly GeneratedToken[],
  task: AnswerTask,
  options: readonly string[] | undefined,
  topLogprobs: number,
): ScoredAnswer {
  const scored = answerConfidence(generated, tokenizer, { task, ...(options?.length ? { options } : {}) });
  const body = generated.at(-1)?.id === tokenizer.eosId ? generated.slice(0, -1) : generated;
  const tokens: TokenConfidence[] = body.map((t) => ({
    token: tokenizer.vocab[t.id],
    prob: t.prob,
    logprob: t.logprob,
    entropy: Math.max(0, t.entropy),
    ...(topLogprobs > 0 && t.top
      ? {
          top_logprobs: t.top
            .slice(0, topLogprobs)
            .map((a) => ({ token: tokenizer.vocab[a.id], logprob: a.logprob })),
        }
      : {}),
  }));
  const answerSpan: AnswerSpan[] = scored.spans.map((s) => ({
    kind: s.kind,
    text: s.text,
    confidence: s.confidence,
    start: s.start,
    end: s.end,
    ...(s.finding ? { finding: s.finding } : {}),
  }));
  return {
    answer: scored.text,
    shortAnswer: task === 'report' ? scored.text : (answerSpan[0]?.text ?? ''),
    answerSpan,
    tokens,
    confidence: {
      min_prob: scored.min_prob,
      mean_logprob: Math.min(0, scored.mean_logprob),
      answer_prob: scored.answer_prob,
    },
  };
}
