/**
 * Word-level tokenizer for chexpo's clinical language.
 *
 * Why words and not BPE: the language is closed — every sentence comes from the catalogue and the
 * instruction templates, so the vocabulary is a few hundred words and BPE would only split them
 * into pieces. With whole-word tokens the per-token confidences the engine reports map one-to-one
 * onto words a clinician reads ("left" at 0.54), which is what the risk scores and hard-example
 * mining look at. Numbers are the one open class: they are split into digits ("12" → "1", "##2";
 * "0.55" → "0", "##.", "##5", "##5") so every measurement is representable with 21 fixed tokens and
 * decodes back unambiguously. Anything else unseen becomes <unk> and is counted, never dropped.
 *
 * Normalisation: lower case; words are letter runs with inner hyphens or apostrophes ("plate-like");
 * every other non-space character is its own token.
 *
 * File format: `tokenizer.json` is a Hugging Face `tokenizers` file (so `Tokenizer.from_file`,
 * tokenizers.js and transformers.js load it and give the same ids): Lowercase normaliser; whitespace
 * split, then this file's token pattern (Split, Isolated); a WordPiece model whose `##` continuation
 * reproduces the digit pieces (a WordLevel model cannot emit them) — every other vocabulary entry is
 * a whole word, so WordPiece maps a word to itself or to `<unk>` exactly as `encode` does. The older
 * `chexpo-word-tokenizer` file (a plain vocabulary list) is still read.
 */
import { TokenizerError } from './errors.ts';

export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>', '<sep>', '<image>'] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

const CONTINUATION = '##';
const NUMBER_TOKENS = [...'0123456789'.split(''), ...'0123456789.'.split('').map((ch) => CONTINUATION + ch)];
const TOKEN_PATTERN = /<[a-z]+>|\d+(?:\.\d+)?|[a-z]+(?:['-][a-z]+)*|\S/g;
const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '?', '!', ')', '%']);
const NO_SPACE_AFTER = new Set(['(']);
/** Specials that decode to nothing: they frame a sequence rather than say something. */
const SILENT: ReadonlySet<string> = new Set(['<pad>', '<bos>', '<eos>']);

/** The format before Hugging Face's (still read). */
export const TOKENIZER_FORMAT = 'chexpo-word-tokenizer';
export const TOKENIZER_FORMAT_VERSION = 1;

/** The older file: a plain vocabulary list. */
export interface LegacyTokenizerJSON {
  format: typeof TOKENIZER_FORMAT;
  version: number;
  lowercase: true;
  /** Id of a token = its index; specials come first, in SPECIAL_TOKENS order. */
  vocab: string[];
}

/** A Hugging Face `tokenizers` file (tokenizer.json), as toJSON writes it. */
export interface TokenizerJSON {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: {
    id: number;
    content: string;
    single_word: boolean;
    lstrip: boolean;
    rstrip: boolean;
    normalized: boolean;
    special: boolean;
  }[];
  normalizer: { type: 'Lowercase' };
  pre_tokenizer: {
    type: 'Sequence';
    pretokenizers: (
      | { type: 'WhitespaceSplit' }
      | { type: 'Split'; pattern: { Regex: string }; behavior: 'Isolated'; invert: false }
    )[];
  };
  post_processor: null;
  decoder: { type: 'WordPiece'; prefix: string; cleanup: boolean };
  model: {
    type: 'WordPiece';
    unk_token: string;
    continuing_subword_prefix: string;
    max_input_chars_per_word: number;
    vocab: Record<string, number>;
  };
}

export interface BuildOptions {
  /** Words seen fewer times than this become <unk> (default 1: keep every word). */
  minCount?: number;
}

export interface EncodeOptions {
  bos?: boolean;
  eos?: boolean;
}

export interface Encoded {
  ids: number[];
  /** How many words were mapped to <unk>. */
  unknown: number;
  unknownWords: string[];
}

/** Splits text into vocabulary-level tokens (words, punctuation, digits). */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().match(TOKEN_PATTERN) ?? []) {
    if (/^\d/.test(raw))
      out.push(
        raw[0],
        ...raw
          .slice(1)
          .split('')
          .map((ch) => CONTINUATION + ch),
      );
    else out.push(raw);
  }
  return out;
}

/**
 * The text each token adds to the decoded text, its leading space included ("no", ".", " the", "5"
 * for "##5"): what OpenAI-style logprobs call a token. Framing specials add nothing; a number piece
 * joins the token just before it; a word (a number is one word) sticks to the word before it when it
 * is punctuation, and to "(". Exactly decode's rule, so the pieces concatenate to decode().
 */
export function tokenPieces(tokens: readonly string[]): string[] {
  let previousWord: string | undefined;
  let adjacent = false;
  return tokens.map((token, i) => {
    if (SILENT.has(token)) {
      adjacent = false;
      return '';
    }
    const continues = token.startsWith(CONTINUATION);
    const text = continues ? token.slice(CONTINUATION.length) : token;
    if (continues && previousWord !== undefined && adjacent) {
      previousWord += text;
      return text;
    }
    // The glue depends on the whole word: a word that a number piece extends is never punctuation.
    const extended = tokens[i + 1]?.startsWith(CONTINUATION) ?? false;
    const glue = previousWord === undefined || glued(previousWord, extended ? `${text}#` : text);
    previousWord = text;
    adjacent = true;
    return glue ? text : ` ${text}`;
  });
}

/** Whether `word` follows `previousWord` with no space (decode's rule). */
function glued(previousWord: string, word: string): boolean {
  return NO_SPACE_BEFORE.has(word) || NO_SPACE_AFTER.has(previousWord);
}

/**
 * The piece of a candidate `token` right after `previous` (the last token that decoded to text), for
 * alternatives that were not chosen: the rule of tokenPieces, assuming no number piece follows.
 */
export function tokenPiece(previous: string | undefined, token: string): string {
  if (SILENT.has(token)) return '';
  const continues = token.startsWith(CONTINUATION);
  const text = continues ? token.slice(CONTINUATION.length) : token;
  if (previous === undefined || continues || glued(previous, text)) return text;
  return ` ${text}`;
}

export class Tokenizer {
  readonly vocab: readonly string[];
  private readonly index: Map<string, number>;

  private constructor(vocab: string[]) {
    this.vocab = vocab;
    this.index = new Map(vocab.map((t, i) => [t, i]));
  }

  static build(texts: Iterable<string>, options: BuildOptions = {}): Tokenizer {
    const minCount = options.minCount ?? 1;
    const reserved = new Set<string>([...SPECIAL_TOKENS, ...NUMBER_TOKENS]);
    const counts = new Map<string, number>();
    for (const text of texts) {
      for (const token of pretokenize(text))
        if (!reserved.has(token)) counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    const words = [...counts]
      .filter(([, n]) => n >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([w]) => w);
    return new Tokenizer([...SPECIAL_TOKENS, ...NUMBER_TOKENS, ...words]);
  }

  /** A Hugging Face tokenizer.json written by toJSON, or the older chexpo file. */
  static fromJSON(json: unknown): Tokenizer {
    const model = (json as { model?: Partial<TokenizerJSON['model']> } | null)?.model;
    if (model && typeof model === 'object') return Tokenizer.fromVocab(Tokenizer.hfVocab(model));
    const j = json as Partial<LegacyTokenizerJSON> | null;
    if (
      !j ||
      j.format !== TOKENIZER_FORMAT ||
      j.version !== TOKENIZER_FORMAT_VERSION ||
      !Array.isArray(j.vocab)
    ) {
      throw new TokenizerError('CHEXPO_ERR_TOKENIZER_FORMAT', 'not a chexpo word tokenizer (format/version)');
    }
    return Tokenizer.fromVocab(j.vocab);
  }

  /** The id-ordered vocabulary of a Hugging Face WordPiece model as toJSON writes it. */
  private static hfVocab(model: Partial<TokenizerJSON['model']>): string[] {
    if (model.type !== 'WordPiece' || model.continuing_subword_prefix !== CONTINUATION || !model.vocab) {
      throw new TokenizerError(
        'CHEXPO_ERR_TOKENIZER_FORMAT',
        'not a chexpo tokenizer (a Hugging Face WordPiece model with ## continuation)',
      );
    }
    const entries = Object.entries(model.vocab);
    const vocab: string[] = new Array(entries.length);
    for (const [token, id] of entries) {
      if (!Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) {
        throw new TokenizerError('CHEXPO_ERR_TOKENIZER_FORMAT', `token ids are not 0…${entries.length - 1}`);
      }
      vocab[id] = token;
    }
    return vocab;
  }

  private static fromVocab(vocab: readonly string[]): Tokenizer {
    if (!SPECIAL_TOKENS.every((s, i) => vocab[i] === s)) {
      throw new TokenizerError('CHEXPO_ERR_TOKENIZER_FORMAT', 'special tokens missing or out of order');
    }
    if (new Set(vocab).size !== vocab.length || vocab.some((t) => typeof t !== 'string' || t === '')) {
      throw new TokenizerError('CHEXPO_ERR_TOKENIZER_FORMAT', 'vocabulary has duplicate or empty tokens');
    }
    return new Tokenizer([...vocab]);
  }

  /** The Hugging Face tokenizer.json (see the file comment); ids are the vocabulary indices. */
  toJSON(): TokenizerJSON {
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: SPECIAL_TOKENS.map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'WhitespaceSplit' },
          { type: 'Split', pattern: { Regex: TOKEN_PATTERN.source }, behavior: 'Isolated', invert: false },
        ],
      },
      post_processor: null,
      decoder: { type: 'WordPiece', prefix: CONTINUATION, cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '<unk>',
        continuing_subword_prefix: CONTINUATION,
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(this.vocab.map((token, id) => [token, id])),
      },
    };
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  get padId(): number {
    return 0;
  }
  get bosId(): number {
    return 1;
  }
  get eosId(): number {
    return 2;
  }
  get unkId(): number {
    return 3;
  }
  get sepId(): number {
    return 4;
  }
  get imageId(): number {
    return 5;
  }

  /** Id of a token, or undefined when it is not in the vocabulary. */
  idOf(token: string): number | undefined {
    return this.index.get(token);
  }

  encode(text: string, options: EncodeOptions = {}): Encoded {
    const ids: number[] = options.bos ? [this.bosId] : [];
    const unknownWords: string[] = [];
    for (const token of pretokenize(text)) {
      const id = this.index.get(token);
      if (id === undefined) unknownWords.push(token);
      ids.push(id ?? this.unkId);
    }
    if (options.eos) ids.push(this.eosId);
    return { ids, unknown: unknownWords.length, unknownWords };
  }

  /** Readable text: punctuation and number pieces re-attached, framing specials left out. */
  decode(ids: readonly number[]): string {
    return this.pieces(ids).join('');
  }

  /** Each token's piece of the decoded text (see tokenPieces); they concatenate to decode(ids). */
  pieces(ids: readonly number[]): string[] {
    return tokenPieces(
      ids.map((id) => {
        const token = this.vocab[id];
        if (token === undefined)
          throw new TokenizerError('CHEXPO_ERR_TOKENIZER_ID', `token id ${id} out of range`);
        return token;
      }),
    );
  }

  /**
   * Groups token positions into the words a reader sees (a number is one word), so per-token
   * confidences can be shown per word. `start`/`end` index into `ids`, [start, end).
   */
  words(ids: readonly number[]): { text: string; start: number; end: number }[] {
    const out: { text: string; start: number; end: number }[] = [];
    ids.forEach((id, i) => {
      const token = this.vocab[id];
      if (token === undefined)
        throw new TokenizerError('CHEXPO_ERR_TOKENIZER_ID', `token id ${id} out of range`);
      if (SILENT.has(token)) return;
      const last = out.at(-1);
      if (token.startsWith(CONTINUATION) && last && last.end === i) {
        last.text += token.slice(CONTINUATION.length);
        last.end = i + 1;
      } else {
        out.push({
          text: token.startsWith(CONTINUATION) ? token.slice(CONTINUATION.length) : token,
          start: i,
          end: i + 1,
        });
      }
    });
    return out;
  }
}
