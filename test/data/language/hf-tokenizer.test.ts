/**
 * tokenizer.json is a Hugging Face tokenizers file: tokenizers.js (@huggingface/tokenizers, the
 * library transformers.js tokenizes with) loads the file chexpo writes, from disk, and encodes every
 * text to the ids chexpo's own tokenizer gives — instruction text, reports, numbers, punctuation,
 * upper case, unknown words and specials. The older chexpo file of the bundled releases still loads,
 * and rewriting it in the new format keeps every id.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { synthesizeInstructions } from '../../../src/data/instructions/index.ts';
import { Rng } from '../../../src/data/random.ts';
import { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import { BUNDLED_MODELS_ROOT } from '../../../src/registry/index.ts';
import { randomCases } from './cases.ts';

const corpus = randomCases(300, 7, 0.3).flatMap((c) =>
  synthesizeInstructions(c, Rng.derive(7, c.id)).flatMap((s) => [s.question, s.target_text]),
);

/** Writes chexpo's tokenizer.json to a temp file and loads that file with tokenizers.js. */
async function hfFromFile(tok: Tokenizer): Promise<HfTokenizer> {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-hf-tok-'));
  try {
    const file = join(dir, 'tokenizer.json');
    await writeFile(file, `${JSON.stringify(tok.toJSON())}\n`);
    return new HfTokenizer(JSON.parse(await readFile(file, 'utf8')), {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const hfIds = (hf: HfTokenizer, text: string): number[] =>
  hf.encode(text, { add_special_tokens: false }).ids.map(Number);

test('tokenizers.js loads the written tokenizer.json and encodes the corpus to the same ids', async () => {
  const tok = Tokenizer.build(corpus.slice(0, 400));
  const hf = await hfFromFile(tok);
  const held = corpus.slice(400);
  assert.ok(held.length > 300);
  for (const text of held) assert.deepEqual(hfIds(hf, text), tok.encode(text).ids, text);
  const tricky = [
    'Is there a LEFT pleural effusion? <image> <sep>',
    'Tube tip 12.5 cm above the carina; 0.55 ratio (mild), 40% of the lung.',
    'an unseenword, a plate-like @ # opacity... 3.14.15 and 007',
    "the patient's right-sided <notaspecial> opacity",
  ];
  for (const text of tricky) assert.deepEqual(hfIds(hf, text), tok.encode(text).ids, text);
  assert.ok(tok.encode(tricky[2]).unknown > 0, 'the cases include unknown words');
});

test('any text of vocabulary words, numbers and symbols gets the same ids from both', async () => {
  const tok = Tokenizer.build(corpus);
  const hf = await hfFromFile(tok);
  const words = tok.vocab.filter((w) => /^[a-z]/.test(w)).slice(0, 80);
  const piece = fc.oneof(
    fc.constantFrom(...words),
    fc.constantFrom(...words).map((w) => w.toUpperCase()),
    fc.integer({ min: 0, max: 99_999 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 99 })).map(([a, b]) => `${a}.${b}`),
    fc.constantFrom('.', ',', '?', '(', ')', '%', ':', ';', '-', "'", '<image>', '<sep>', 'zzq', '§'),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(piece, fc.constantFrom(' ', '', '  ')), { maxLength: 24 }), (parts) => {
      const text = parts.map(([p, gap]) => p + gap).join('');
      assert.deepEqual(hfIds(hf, text), tok.encode(text).ids, text);
    }),
    { numRuns: 400 },
  );
});

test('the older chexpo file of the bundled releases is still read, and the new file keeps its ids', async () => {
  for (const version of ['v0001', 'v0002']) {
    const file = join(BUNDLED_MODELS_ROOT, 'chexpo-tiny', version, 'tokenizer.json');
    const old = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(old.format, 'chexpo-word-tokenizer', 'the bundled file is the older format');
    const tok = Tokenizer.fromJSON(old);
    assert.deepEqual(tok.vocab, old.vocab);
    const rewritten = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
    assert.deepEqual(rewritten.vocab, tok.vocab);
    const hf = await hfFromFile(tok);
    for (const text of corpus.slice(0, 200)) assert.deepEqual(hfIds(hf, text), tok.encode(text).ids, text);
  }
});
