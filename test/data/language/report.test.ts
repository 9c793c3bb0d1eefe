import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import {
  NO_POSITIVE_IMPRESSION,
  NORMAL_IMPRESSION,
  reportFindingSentences,
  splitSentences,
  writeReport,
} from '../../../src/data/report/index.ts';
import type { LabelledCase } from '../../../src/data/types.ts';
import { FINDING_KEYS } from '../../../src/data/types.ts';
import { effusionCase, randomCases } from './cases.ts';

test('a hand-made case reads like a radiology report with explicit negatives', () => {
  const r = writeReport(effusionCase(), new Rng(1));
  assert.ok(r.text.startsWith('FINDINGS: ') && r.text.includes('\nIMPRESSION: '));
  assert.match(r.findings, /small right pleural effusion/i);
  assert.match(r.findings, /pneumothorax/i);
  assert.match(
    r.impression,
    /^(Small right pleural effusion\. Moderate cardiomegaly\.|Moderate cardiomegaly\.)/,
  );
  assert.ok(r.impression.includes('Small right pleural effusion.'));
});

test('one finding per findings sentence, in order, and the sentence map finds each key', () => {
  for (const c of randomCases(200, 11)) {
    const r = writeReport(c, new Rng(5));
    const sentences = reportFindingSentences(r.text).filter((s) => s.section === 'findings');
    assert.equal(sentences.length, c.findings.length, r.findings);
    for (const s of sentences) {
      const keys = new Set(s.mentions.map((m) => m.key));
      assert.equal(keys.size, 1, s.text);
      assert.equal(r.text.slice(s.start, s.end), s.text);
      const [key] = keys;
      const truth = c.findings.find((f) => f.name === key)!;
      assert.ok(
        s.mentions.every((m) => m.label === (truth.present ? 'positive' : 'negative')),
        s.text,
      );
    }
  }
});

test('normal and incomplete cases get the right impression; unknown findings are never mentioned', () => {
  const normal: LabelledCase = { id: 'n', findings: FINDING_KEYS.map((name) => ({ name, present: false })) };
  assert.equal(writeReport(normal, new Rng(2)).impression, NORMAL_IMPRESSION);
  const partial: LabelledCase = { id: 'p', findings: [{ name: 'pneumothorax', present: false }] };
  const r = writeReport(partial, new Rng(2));
  assert.equal(r.impression, NO_POSITIVE_IMPRESSION);
  assert.equal(reportFindingSentences(r.text).filter((s) => s.mentions.length > 0).length, 1);
  assert.doesNotMatch(r.text, /effusion|cardiomegaly|heart|nodule/i);
});

test('several phrasings are used and the same rng seed gives the same report', () => {
  const c = effusionCase();
  const texts = new Set(Array.from({ length: 20 }, (_, i) => writeReport(c, new Rng(i)).text));
  assert.ok(texts.size > 5);
  assert.equal(writeReport(c, new Rng(3)).text, writeReport(c, new Rng(3)).text);
});

test('sentence splitting keeps decimals and offsets', () => {
  const text = 'Ratio is 0.55. No effusion.\nIMPRESSION: Normal';
  const spans = splitSentences(text);
  assert.deepEqual(
    spans.map((s) => s.text),
    ['Ratio is 0.55.', 'No effusion.', 'IMPRESSION: Normal'],
  );
  for (const s of spans) assert.equal(text.slice(s.start, s.end), s.text);
});
