import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import type { InstructionSample } from '../../../src/data/types.ts';
import { weightAnswerTokens } from '../../../src/model/train/dataset.ts';
import { trainingSequence } from '../../../src/model/vlm/tokens.ts';

const closed: InstructionSample = {
  id: 'c/closed/0',
  case_id: 'c',
  task: 'closed',
  question: 'Is there a pneumothorax?',
  answer: 'yes',
  rationale: 'There is a small left pneumothorax.',
  target_text: 'yes. There is a small left pneumothorax.',
  finding: 'pneumothorax',
  template: 'closed.1',
};
const report: InstructionSample = {
  ...closed,
  id: 'c/report/0',
  task: 'report',
  question: 'Write the report.',
  answer: 'FINDINGS: No pneumothorax. The heart is normal.',
  target_text: 'FINDINGS: No pneumothorax. The heart is normal.',
};
const tokenizer = Tokenizer.build([closed.question, closed.target_text, report.question, report.target_text]);

test('answer weighting: the short answer and a report’s finding words weigh more; the prompt stays 0', () => {
  const seq = trainingSequence(tokenizer, closed.question, closed.target_text, 64);
  const weighted = weightAnswerTokens(seq, closed, tokenizer, 4);
  const start = seq.lossMask.indexOf(1);
  assert.equal(weighted.lossMask[start], 4, 'the "yes" token');
  assert.deepEqual(weighted.lossMask.slice(0, start), seq.lossMask.slice(0, start));
  assert.ok(
    weighted.lossMask.slice(start + 1).every((w) => w === 1),
    'rationale tokens keep weight 1',
  );
  assert.equal(weightAnswerTokens(seq, closed, tokenizer, 1), seq);

  const r = trainingSequence(tokenizer, report.question, report.target_text, 64);
  const rw = weightAnswerTokens(r, report, tokenizer, 3);
  const heavy = rw.targetIds.filter((_, t) => rw.lossMask[t] === 3).map((id) => tokenizer.decode([id]));
  assert.deepEqual(heavy.sort(), ['no', 'normal', 'pneumothorax']);
});
