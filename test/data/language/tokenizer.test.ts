import assert from 'node:assert/strict';
import { test } from 'node:test';
import { synthesizeInstructions } from '../../../src/data/instructions/index.ts';
import { Rng } from '../../../src/data/random.ts';
import { pretokenize, SPECIAL_TOKENS, Tokenizer, TokenizerError } from '../../../src/data/tokenizer/index.ts';
import { randomCases } from './cases.ts';

const texts = (n: number, seed: number): string[] =>
  randomCases(n, seed, 0.3).flatMap((c) =>
    synthesizeInstructions(c, Rng.derive(seed, c.id)).flatMap((s) => [s.question, s.target_text]),
  );

test('a vocabulary built from one seed covers another seed with zero unknown words', () => {
  const tok = Tokenizer.build(texts(600, 1));
  let unknown = 0;
  const heldOut = texts(300, 2);
  for (const t of heldOut) unknown += tok.encode(t).unknown;
  assert.equal(unknown, 0);
  assert.ok(tok.vocabSize > 150 && tok.vocabSize < 1000, `vocab ${tok.vocabSize}`);
});

test('normalisation, digits and readable round trip', () => {
  assert.deepEqual(pretokenize('Plate-like atelectasis, 12 mm (0.55).'), [
    'plate-like',
    'atelectasis',
    ',',
    '1',
    '##2',
    'mm',
    '(',
    '0',
    '##.',
    '##5',
    '##5',
    ')',
    '.',
  ]);
  const sample = 'yes. there is a nodule measuring 12 mm in the right upper zone (ratio 0.55), not a mass.';
  const tok = Tokenizer.build([sample]);
  const { ids, unknown } = tok.encode(sample, { bos: true, eos: true });
  assert.equal(unknown, 0);
  assert.equal(ids[0], tok.bosId);
  assert.equal(ids.at(-1), tok.eosId);
  assert.equal(tok.decode(ids), sample);
  assert.equal(tok.encode('YES.').ids.join(), tok.encode('yes .').ids.join());
  const words = tok.words(tok.encode('measuring 120 mm').ids);
  assert.deepEqual(
    words.map((w) => [w.text, w.end - w.start]),
    [
      ['measuring', 1],
      ['120', 3],
      ['mm', 1],
    ],
  );
});

test('unknown words are counted and kept as <unk>, never dropped; minCount prunes rare words', () => {
  const tok = Tokenizer.build(['no pleural effusion', 'no pneumothorax', 'no pneumothorax'], { minCount: 2 });
  const e = tok.encode('no pleural effusion, possible pneumothorax');
  assert.equal(e.unknown, 4);
  assert.deepEqual(e.unknownWords, ['pleural', 'effusion', ',', 'possible']);
  assert.equal(e.ids.length, 6);
  assert.equal(e.ids.filter((id) => id === tok.unkId).length, 4);
  assert.equal(tok.decode(e.ids), 'no <unk> <unk> <unk> <unk> pneumothorax');
});

test('specials have fixed ids and the JSON file round-trips', () => {
  const tok = Tokenizer.build(texts(50, 3));
  assert.deepEqual(tok.vocab.slice(0, SPECIAL_TOKENS.length), [...SPECIAL_TOKENS]);
  assert.deepEqual([tok.padId, tok.bosId, tok.eosId, tok.unkId, tok.sepId, tok.imageId], [0, 1, 2, 3, 4, 5]);
  assert.equal(tok.idOf('<image>'), tok.imageId);
  const copy = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
  assert.deepEqual(copy.vocab, tok.vocab);
  const text = texts(1, 4)[1];
  assert.deepEqual(copy.encode(text), tok.encode(text));
  assert.equal(
    copy.decode(copy.encode('<image> what is the ratio? <sep> 0.45.').ids),
    '<image> what is the ratio? <sep> 0.45.',
  );
});

test('bad tokenizer files and ids fail with stable codes', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof TokenizerError ? e.code : 'other';
    }
    return undefined;
  };
  assert.equal(
    code(() => Tokenizer.fromJSON({ format: 'bpe' })),
    'CHEXPO_ERR_TOKENIZER_FORMAT',
  );
  // The older file (a vocabulary list): missing specials, a repeated token.
  const vocab = [...Tokenizer.build(['a b']).vocab];
  const legacy = { format: 'chexpo-word-tokenizer', version: 1, lowercase: true, vocab };
  assert.equal(Tokenizer.fromJSON(legacy).vocabSize, vocab.length);
  assert.equal(
    code(() => Tokenizer.fromJSON({ ...legacy, vocab: vocab.slice(1) })),
    'CHEXPO_ERR_TOKENIZER_FORMAT',
  );
  assert.equal(
    code(() => Tokenizer.fromJSON({ ...legacy, vocab: [...vocab, 'a'] })),
    'CHEXPO_ERR_TOKENIZER_FORMAT',
  );
  // The Hugging Face file: another model type, ids with a gap or a repeat.
  const json = Tokenizer.build(['a b']).toJSON();
  for (const model of [
    { ...json.model, type: 'BPE' },
    { ...json.model, vocab: { ...json.model.vocab, zzz: vocab.length + 3 } },
    { ...json.model, vocab: { ...json.model.vocab, zzz: 0 } },
  ]) {
    assert.equal(
      code(() => Tokenizer.fromJSON({ ...json, model })),
      'CHEXPO_ERR_TOKENIZER_FORMAT',
    );
  }
  assert.equal(
    code(() => Tokenizer.build(['a']).decode([9999])),
    'CHEXPO_ERR_TOKENIZER_ID',
  );
});
