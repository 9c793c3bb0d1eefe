/**
 * Answer-level confidences from per-token ones. Targets are "<short answer>. <rationale>" (see
 * src/data/instructions/target.ts), so the short answer is the tokens before the first sentence
 * period; a report is scored per sentence (one finding statement each).
 *
 * A span's confidence is the probability of its tokens given what came before, Π p_t (the chance
 * the model would produce exactly that span). `answer_prob` is that of the short answer; for a
 * report it is the lowest sentence probability (the weakest statement bounds the report).
 */
import type { Tokenizer } from '../data/tokenizer/index.ts';
import { readChoice, readFindings } from '../eval/index.ts';
import type { GeneratedToken } from '../model/vlm/generate.ts';
import type { AnswerSpan, AnswerTask, TokenConfidence } from '../server/services.ts';

export interface ScoredAnswer {
  answer: string;
  shortAnswer: string;
  answerSpan: AnswerSpan[];
  tokens: TokenConfidence[];
  confidence: { min_prob: number; mean_logprob: number; answer_prob: number };
}

const PERIOD = '.';

/** Token groups [start, end) split after each sentence period that is not inside a number. */
function sentences(tokens: readonly string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  tokens.forEach((t, i) => {
    if (t === PERIOD) {
      out.push([start, i + 1]);
      start = i + 1;
    }
  });
  if (start < tokens.length) out.push([start, tokens.length]);
  return out;
}

const product = (probs: readonly number[]): number => probs.reduce((p, q) => p * q, 1);

/** Character offset in `text` of the words of ids [0, end), by decoding the prefix. */
function prefixLength(tokenizer: Tokenizer, ids: readonly number[], end: number): number {
  return tokenizer.decode(ids.slice(0, end)).length;
}

/**
 * `generated` is every generated token including a final `<eos>`; the answer text, tokens and
 * confidences leave `<eos>` out (its probability still counts when nothing else was generated).
 */
export function scoreAnswer(
  tokenizer: Tokenizer,
  generated: readonly GeneratedToken[],
  task: AnswerTask,
  options: readonly string[] | undefined,
  topLogprobs: number,
): ScoredAnswer {
  const body = generated.at(-1)?.id === tokenizer.eosId ? generated.slice(0, -1) : generated;
  const ids = body.map((t) => t.id);
  const names = ids.map((id) => tokenizer.vocab[id]);
  const answer = tokenizer.decode(ids);
  const tokens: TokenConfidence[] = body.map((t, i) => ({
    token: names[i],
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
  const counted = body.length > 0 ? body : generated;
  const min_prob = counted.length > 0 ? Math.min(...counted.map((t) => t.prob)) : 0;
  const mean_logprob = counted.length > 0 ? counted.reduce((s, t) => s + t.logprob, 0) / counted.length : -50;

  const groups = sentences(names);
  const spanOf = ([start, end]: [number, number]) => {
    const content = names[end - 1] === PERIOD ? end - 1 : end;
    const text = tokenizer.decode(ids.slice(start, content));
    const startChar = start === 0 ? 0 : prefixLength(tokenizer, ids, start) + 1;
    return {
      text,
      confidence: product(body.slice(start, content).map((t) => t.prob)),
      start: Math.min(startChar, answer.length),
      end: Math.min(startChar + text.length, answer.length),
    };
  };

  let answerSpan: AnswerSpan[];
  if (task === 'report') {
    answerSpan = groups
      .map(spanOf)
      .filter((s) => s.text.length > 0)
      .map((s) => {
        const finding = [...readFindings(s.text)][0];
        return { kind: 'finding' as const, ...s, ...(finding ? { finding } : {}) };
      });
  } else {
    const first = groups.length > 0 ? spanOf(groups[0]) : { text: '', confidence: 0, start: 0, end: 0 };
    const yesNo = /^(yes|no)$/.test(first.text);
    const chosen = options && options.length > 0 ? readChoice(first.text, options) : undefined;
    const kind = yesNo ? 'yes_no' : chosen !== undefined ? 'option' : 'value';
    answerSpan = [{ kind, ...first }];
  }
  const answer_prob =
    answerSpan.length > 0
      ? Math.min(...answerSpan.map((s) => s.confidence))
      : product(counted.map((t) => t.prob));
  return {
    answer,
    shortAnswer: task === 'report' ? answer : (answerSpan[0]?.text ?? ''),
    answerSpan,
    tokens,
    confidence: { min_prob, mean_logprob: Math.min(0, mean_logprob), answer_prob },
  };
}
