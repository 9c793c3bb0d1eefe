/** Token pieces (what OpenAI-style logprobs show per token) concatenate to the decoded text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Tokenizer, tokenPiece, tokenPieces } from '../../../src/data/tokenizer/index.ts';

const tok = Tokenizer.build([
  'there is a small (right) pleural effusion, about 12.5 mm. no pneumothorax?',
  'which side: left or right? 40% of the lung',
]);

/** The decode rule written out word by word (words(), then one space unless glued), as an oracle. */
function decodeByWords(ids: number[]): string {
  const words = tok.words(ids).map((w) => w.text);
  return words.reduce((out, word, i) => {
    if (i === 0) return word;
    const glue = ['.', ',', ';', ':', '?', '!', ')', '%'].includes(word) || words[i - 1] === '(';
    return out + (glue ? '' : ' ') + word;
  }, '');
}

test('pieces of any id sequence concatenate to decode() and to the word-by-word rule', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: tok.vocabSize - 1 }), { maxLength: 40 }), (ids) => {
      const pieces = tok.pieces(ids);
      assert.equal(pieces.length, ids.length);
      assert.equal(pieces.join(''), tok.decode(ids));
      assert.equal(pieces.join(''), decodeByWords(ids));
      assert.deepEqual(tokenPieces(ids.map((id) => tok.vocab[id])), pieces);
    }),
    { numRuns: 300 },
  );
});

test('pieces carry their leading space; numbers, punctuation and framing specials do not', () => {
  const ids = tok.encode('There is a small (right) effusion, 12.5 mm.', { bos: true, eos: true }).ids;
  assert.deepEqual(tok.pieces(ids), [
    '',
    'there',
    ' is',
    ' a',
    ' small',
    ' (',
    'right',
    ')',
    ' effusion',
    ',',
    ' 1',
    '2',
    '.',
    '5',
    ' mm',
    '.',
    '',
  ]);
  assert.equal(tokenPiece('is', ','), ',');
  assert.equal(tokenPiece('is', 'left'), ' left');
  assert.equal(tokenPiece('(', 'left'), 'left');
  assert.equal(tokenPiece('1', '##5'), '5');
  assert.equal(tokenPiece(undefined, 'no'), 'no');
  // A number piece after a framing special starts a new word, as in words().
  assert.deepEqual(tokenPieces(['is', '<eos>', '##5']), ['is', '', ' 5']);
});
