import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer } from '../../src/data/tokenizer/index.ts';
import { answerConfidence, LOGPROB_FLOOR, placeWords } from '../../src/inference/confidence.ts';
import type { GeneratedToken } from '../../src/inference/generate.ts';

const tokenizer = Tokenizer.build([
  'yes. There is blunting of the right costophrenic angle.',
  'no. The lungs are clear.',
  'right lower. The opacity is in the right lower zone.',
  '0.55. The transverse cardiac diameter is 0.55 of the chest.',
  'cardiomegaly, pleural effusion. The heart is enlarged.',
  'Findings: There is a small right pleural effusion. No pneumothorax. Impression: Small right pleural effusion.',
]);

/** Tokens for `text` (+ <eos>) with the given probabilities per token (default 0.9). */
function generated(text: string, probs: Record<number, number> = {}): GeneratedToken[] {
  const ids = [...tokenizer.encode(text).ids, tokenizer.eosId];
  return ids.map((id, i) => {
    const prob = probs[i] ?? 0.9;
    return { id, prob, logprob: Math.log(prob), entropy: 0.1 };
  });
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('closed answer: the span is the yes/no token, before the sentence period', () => {
  const tokens = generated('yes. There is blunting of the right costophrenic angle.', {
    0: 0.7,
    1: 0.2,
    5: 0.3,
  });
  const c = answerConfidence(tokens, tokenizer, { task: 'closed' });
  close(c.answer_prob, 0.7, 'answer_prob');
  close(c.min_prob, 0.7, 'min_prob (answer span only)');
  assert.deepEqual(
    c.spans.map((s) => [s.kind, s.text, s.start, s.end, s.tokenStart, s.tokenEnd]),
    [['yes_no', 'yes', 0, 3, 0, 1]],
  );
  const mean = tokens.reduce((s, t) => s + t.logprob, 0) / tokens.length;
  close(c.mean_logprob, mean, 'mean_logprob over every token, <eos> included');
  // The tokenizer lower-cases: the decoded text is what the API returns.
  assert.equal(c.text, 'yes. there is blunting of the right costophrenic angle.');
});

test('multi-token answers multiply; a decimal number stays one answer', () => {
  const c = answerConfidence(
    generated('right lower. The opacity is in the right lower zone.', { 0: 0.8, 1: 0.5 }),
    tokenizer,
    {
      task: 'open',
    },
  );
  close(c.answer_prob, 0.4, 'product');
  close(c.min_prob, 0.5, 'min');
  assert.equal(c.spans[0].text, 'right lower');
  assert.equal(c.spans[0].kind, 'value');
  // "0.55" = 0 ##. ##5 ##5: four tokens, then the sentence period.
  const ratio = answerConfidence(
    generated('0.55. The transverse cardiac diameter is 0.55 of the chest.'),
    tokenizer,
    {
      task: 'open',
    },
  );
  assert.equal(ratio.spans[0].text, '0.55');
  assert.equal(ratio.spans[0].tokenEnd, 4);
  close(ratio.answer_prob, 0.9 ** 4, 'four tokens');
});

test('vqa reads the kind from the answer; choice answers are options', () => {
  assert.equal(
    answerConfidence(generated('no. The lungs are clear.'), tokenizer, { task: 'vqa' }).spans[0].kind,
    'yes_no',
  );
  assert.equal(
    answerConfidence(generated('right lower. The opacity is in the right lower zone.'), tokenizer, {
      task: 'vqa',
      options: ['Right lower', 'left upper'],
    }).spans[0].kind,
    'option',
  );
  assert.equal(
    answerConfidence(generated('right lower.'), tokenizer, { task: 'choice' }).spans[0].kind,
    'option',
  );
});

test('abnormality lists: one span per listed finding', () => {
  const c = answerConfidence(
    generated('cardiomegaly, pleural effusion. The heart is enlarged.', { 0: 0.6, 2: 0.5, 3: 0.4 }),
    tokenizer,
    {
      task: 'abnormality_list',
    },
  );
  assert.deepEqual(
    c.spans.map((s) => [s.finding, s.text]),
    [
      ['cardiomegaly', 'cardiomegaly'],
      ['pleural_effusion', 'pleural effusion'],
    ],
  );
  close(c.spans[1].confidence, 0.2, 'item product');
  close(c.answer_prob, 0.6 * 0.9 * 0.5 * 0.4, 'whole list incl. the comma');
});

test('reports: one span per finding statement; answer_prob is the weakest statement', () => {
  const report =
    'Findings: There is a small right pleural effusion. No pneumothorax. Impression: Small right pleural effusion.';
  const ids = tokenizer.encode(report).ids;
  const no = ids.indexOf(tokenizer.idOf('no')!);
  const c = answerConfidence(generated(report, { [no]: 0.3 }), tokenizer, { task: 'report' });
  const pneumo = c.spans.find((s) => s.finding === 'pneumothorax')!;
  assert.equal(pneumo.text, 'no pneumothorax.');
  assert.equal(c.text.slice(pneumo.start, pneumo.end), 'no pneumothorax.');
  assert.equal(c.text, report.toLowerCase());
  close(pneumo.confidence, 0.3 * 0.9 * 0.9, 'no · pneumothorax · .');
  assert.equal(c.spans.filter((s) => s.finding === 'pleural_effusion').length, 2);
  close(c.answer_prob, Math.min(...c.spans.map((s) => s.confidence)), 'weakest');
  close(c.min_prob, 0.3, 'min over the report');
});

test('edge cases: nothing generated, an empty answer, words placed in the decoded text', () => {
  const none = answerConfidence([], tokenizer, { task: 'closed' });
  assert.deepEqual(none, { text: '', answer_prob: 0, min_prob: 0, mean_logprob: LOGPROB_FLOOR, spans: [] });
  const empty = answerConfidence(generated('. The lungs are clear.', { 0: 0.25 }), tokenizer, {
    task: 'closed',
  });
  close(empty.answer_prob, 0.25, 'the terminator alone');
  assert.deepEqual(empty.spans, []);
  const { text, words } = placeWords(tokenizer, tokenizer.encode('the ratio is 0.55 (small).').ids);
  for (const w of words) assert.equal(text.slice(w.charStart, w.charEnd), w.text);
});
