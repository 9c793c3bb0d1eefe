/**
 * Answer-level confidences from generated tokens (decision 5 of the architecture).
 *
 * Targets are "<answer>. <rationale>" (src/data/instructions/target.ts): the short answer is every
 * token before the first sentence period. With the word tokenizer a sentence period is always its
 * own "." token (a decimal point is the continuation token "##."), so the span is found on token
 * ids, with no re-tokenisation of the decoded text. Reports have no rationale: the report is the
 * answer, and each finding statement (`reportFindingSentences`) gets its own span.
 *
 * answer_prob = the PRODUCT of the span's token probabilities, not their geometric mean: under
 * greedy decoding it is the model's probability of exactly this answer string, a probability of an
 * event that ECE and the risk calibrator can compare with a right/wrong outcome. "right lower" is
 * right only if both words are, and the product falls when either is doubtful; a geometric mean
 * would hide one weak token among confident ones and is not the probability of anything. Its
 * length bias (longer answers score lower) is what the calibrator's task one-hot and min_prob
 * absorb. The "." that ends the answer is left out: it says the answer is complete, not what it is.
 *
 * min_prob is the lowest probability inside the answer span (the report for reports); mean_logprob
 * is over every generated token, `<eos>` included (how sure the model was of the whole text).
 */
import { labelSentence } from '../data/labeler/labeler.ts';
import { reportFindingSentences } from '../data/report/index.ts';
import type { Tokenizer } from '../data/tokenizer/index.ts';
import type { FindingKey, TaskType } from '../data/types.ts';
import type { GeneratedToken } from './generate.ts';

/** Floor for log-probabilities and the mean of an empty generation (the risk calibrator clips there too). */
export const LOGPROB_FLOOR = -50;

export type SpanKind = 'yes_no' | 'option' | 'value' | 'finding';

export interface ConfidenceSpan {
  kind: SpanKind;
  text: string;
  /** Product of the span's token probabilities. */
  confidence: number;
  min_prob: number;
  finding?: FindingKey;
  /** Character offsets in the decoded text, [start, end). */
  start: number;
  end: number;
  /** Token indices in the generation, [tokenStart, tokenEnd). */
  tokenStart: number;
  tokenEnd: number;
}

export interface AnswerConfidence {
  /** The decoded generation (what the API returns as `answer`). */
  text: string;
  answer_prob: number;
  min_prob: number;
  mean_logprob: number;
  spans: ConfidenceSpan[];
}

/** What kind of answer was asked for: an instruction task, or the server's 'vqa' (kind read from the answer). */
export interface AnswerContext {
  task: TaskType | 'vqa';
  /** Options offered by a choice question. */
  options?: readonly string[];
}

/** A word of the decoded text with its token range and character range. */
export interface PlacedWord {
  text: string;
  start: number;
  end: number;
  charStart: number;
  charEnd: number;
}

/** Decodes `ids` and places every word in the text (decode only glues or spaces words, in order). */
export function placeWords(
  tokenizer: Tokenizer,
  ids: readonly number[],
): { text: string; words: PlacedWord[] } {
  const text = tokenizer.decode(ids);
  let cursor = 0;
  const words = tokenizer.words(ids).map((w) => {
    const at = text.startsWith(w.text, cursor) ? cursor : text.indexOf(w.text, cursor);
    cursor = at + w.text.length;
    return { ...w, charStart: at, charEnd: cursor };
  });
  return { text, words };
}

function spanStats(tokens: readonly GeneratedToken[], from: number, to: number) {
  let logprob = 0;
  let min = 1;
  for (let i = from; i < to; i++) {
    logprob += tokens[i].logprob;
    min = Math.min(min, tokens[i].prob);
  }
  return { confidence: Math.exp(logprob), min_prob: min };
}

function makeSpan(
  kind: SpanKind,
  text: string,
  tokens: readonly GeneratedToken[],
  first: PlacedWord,
  last: PlacedWord,
  finding?: FindingKey,
): ConfidenceSpan {
  const span: ConfidenceSpan = {
    kind,
    text: text.slice(first.charStart, last.charEnd),
    ...spanStats(tokens, first.start, last.end),
    start: first.charStart,
    end: last.charEnd,
    tokenStart: first.start,
    tokenEnd: last.end,
  };
  if (finding) span.finding = finding;
  return span;
}

function answerKind(context: AnswerContext, answer: string): SpanKind {
  if (context.task === 'closed') return 'yes_no';
  if (context.task === 'choice') return 'option';
  if (context.task === 'vqa') {
    if (answer === 'yes' || answer === 'no') return 'yes_no';
    if (context.options?.some((o) => o.toLowerCase() === answer)) return 'option';
  }
  return 'value';
}

/** One span per listed finding ("cardiomegaly, pleural effusion"): items are separated by ",". */
function listSpans(
  text: string,
  tokens: readonly GeneratedToken[],
  words: readonly PlacedWord[],
): ConfidenceSpan[] {
  const spans: ConfidenceSpan[] = [];
  let itemStart = 0;
  for (let i = 0; i <= words.length; i++) {
    if (i < words.length && words[i].text !== ',') continue;
    if (i > itemStart) {
      const first = words[itemStart];
      const last = words[i - 1];
      const keys = [...new Set(labelSentence(text.slice(first.charStart, last.charEnd)).map((m) => m.key))];
      spans.push(
        makeSpan(
          keys.length === 1 ? 'finding' : 'value',
          text,
          tokens,
          first,
          last,
          keys.length === 1 ? keys[0] : undefined,
        ),
      );
    }
    itemStart = i + 1;
  }
  return spans;
}

/** One span per finding stated in a report sentence (a sentence naming two findings gives two spans). */
function reportSpans(
  text: string,
  tokens: readonly GeneratedToken[],
  words: readonly PlacedWord[],
): ConfidenceSpan[] {
  const spans: ConfidenceSpan[] = [];
  for (const sentence of reportFindingSentences(text)) {
    const inside = words.filter((w) => w.charStart < sentence.end && w.charEnd > sentence.start);
    if (inside.length === 0) continue;
    const keys = [...new Set(sentence.mentions.map((m) => m.key))];
    for (const key of keys) spans.push(makeSpan('finding', text, tokens, inside[0], inside.at(-1)!, key));
  }
  return spans;
}

/** Confidences of one generation (tokens as returned by the Generator, `<eos>` included if generated). */
export function answerConfidence(
  tokens: readonly GeneratedToken[],
  tokenizer: Tokenizer,
  context: AnswerContext,
): AnswerConfidence {
  const ids = tokens.map((t) => t.id);
  const { text, words } = placeWords(tokenizer, ids);
  const mean_logprob =
    tokens.length === 0
      ? LOGPROB_FLOOR
      : Math.max(LOGPROB_FLOOR, tokens.reduce((s, t) => s + t.logprob, 0) / tokens.length);
  if (words.length === 0) return { text, answer_prob: 0, min_prob: 0, mean_logprob, spans: [] };

  if (context.task === 'report') {
    const spans = reportSpans(text, tokens, words);
    const all = spanStats(tokens, words[0].start, words.at(-1)!.end);
    // A report is as reliable as its weakest finding statement.
    const answer_prob = spans.length > 0 ? Math.min(...spans.map((s) => s.confidence)) : all.confidence;
    return { text, answer_prob, min_prob: all.min_prob, mean_logprob, spans };
  }

  const period = words.findIndex((w) => w.text === '.');
  const answerWords = period < 0 ? words : words.slice(0, period);
  if (answerWords.length === 0) {
    // An empty answer: its only evidence is the terminator the model chose first.
    const stats = spanStats(tokens, words[0].start, words[0].end);
    return { text, answer_prob: stats.confidence, min_prob: stats.min_prob, mean_logprob, spans: [] };
  }
  const first = answerWords[0];
  const last = answerWords.at(-1)!;
  const whole = makeSpan(
    answerKind(context, text.slice(first.charStart, last.charEnd)),
    text,
    tokens,
    first,
    last,
  );
  const spans = context.task === 'abnormality_list' ? listSpans(text, tokens, answerWords) : [whole];
  return { text, answer_prob: whole.confidence, min_prob: whole.min_prob, mean_logprob, spans };
}
