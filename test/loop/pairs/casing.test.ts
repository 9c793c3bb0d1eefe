/**
 * Chosen and rejected differ only in content: the model answers in lower case (its vocabulary is)
 * while the synthesised targets are cased, so every pair and every exported TRL row puts both sides
 * in one casing (sentence case). Checked on on-policy pairs made from lower-case model answers, on
 * every generated kind, and on the export of pairs stored before (chosen cased, rejected not).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { draftsFor, pairsFor, sentenceCase, toTrlRow } from '../../../src/loop/pairs/index.ts';
import type { ImageRef } from '../../../src/loop/types.ts';
import { PAIR_KINDS } from '../../../src/store/contract.ts';
import { corpus, selected } from './fixtures.ts';

const items = corpus(60);
const TEXT_KINDS = PAIR_KINDS.filter((k) => k !== 'on_policy' && k !== 'image_counterfactual');

/** Where the capitals are, sentence by sentence: the casing "feature" a model could learn. */
const casing = (text: string): string =>
  text
    .split(/(?<=[.?!])\s+/)
    .map((sentence) =>
      sentence
        .replace(/[^A-Za-z]/g, '')
        .replace(/[a-z]/g, 'a')
        .replace(/[A-Z]/g, 'A'),
    )
    .map((shape) => shape.slice(0, 2))
    .join(' ');

test('sentenceCase: lower case with a capital at the start and after each sentence end', () => {
  assert.equal(
    sentenceCase('no. the costophrenic angles are sharp.'),
    'No. The costophrenic angles are sharp.',
  );
  assert.equal(
    sentenceCase('yes. There is a SMALL effusion? 0.55 ratio. (mild)'),
    'Yes. There is a small effusion? 0.55 ratio. (mild)',
  );
  assert.equal(sentenceCase('Tip 2.5 cm above the carina.'), 'Tip 2.5 cm above the carina.');
  for (const { sample } of items)
    assert.equal(sentenceCase(sentenceCase(sample.target_text)), sentenceCase(sample.target_text));
});

test('on-policy pairs from lower-case model answers: both sides cased alike, only the content differs', () => {
  let made = 0;
  for (const { c, sample } of items) {
    const wrong = draftsFor(selected(c, sample), { seed: 1, kinds: TEXT_KINDS })[0];
    if (!wrong) continue;
    // What the model says: its vocabulary is lower case.
    const modelAnswer = wrong.rejected.toLowerCase();
    const [pair] = pairsFor(selected(c, sample, modelAnswer), { seed: 1, maxPerSample: 1 });
    if (pair?.kind !== 'on_policy') continue;
    made++;
    assert.notEqual(casing(sample.target_text), casing(modelAnswer), 'before: the sides differ in casing');
    for (const side of [pair.chosen, pair.rejected]) assert.equal(sentenceCase(side), side);
    assert.notEqual(pair.chosen.toLowerCase(), pair.rejected.toLowerCase(), 'the content differs');
    assert.equal(pair.rejected.toLowerCase(), modelAnswer);
    assert.equal(pair.chosen.toLowerCase(), sample.target_text.toLowerCase());
  }
  assert.ok(made > 20, `${made} on-policy pairs`);
});

test('every kind of pair and every TRL row has both sides in the same casing', () => {
  const image: ImageRef = { kind: 'case', case_id: 'c1' };
  let rows = 0;
  for (const { c, sample } of items) {
    for (const pair of pairsFor(selected(c, sample), { seed: 2, maxPerSample: 3 })) {
      for (const side of [pair.chosen, pair.rejected]) assert.equal(sentenceCase(side), side, pair.kind);
      // A pair stored before casing was normalised: chosen as synthesised, rejected as the model spoke.
      const stored = { ...pair, chosen: sample.target_text, rejected: pair.rejected.toLowerCase() };
      const row = toTrlRow({ ...stored, chosenImage: image, rejectedImage: image }, () => 'images/x.png');
      assert.equal(row.chosen[0].content[0].text, row.chosen_text);
      assert.equal(row.rejected[0].content[0].text, row.rejected_text);
      for (const side of [row.chosen_text, row.rejected_text]) assert.equal(sentenceCase(side), side);
      assert.equal(row.rejected_text.toLowerCase(), pair.rejected.toLowerCase());
      rows++;
    }
  }
  assert.ok(rows > 100, `${rows} rows`);
});
