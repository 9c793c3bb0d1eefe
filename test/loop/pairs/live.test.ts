import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveTrainingCase } from '../../../src/loop/mining/index.ts';
import { livePairs } from '../../../src/loop/pairs/live.ts';
import type { HardExample } from '../../../src/store/contract.ts';

function corrected(
  id: string,
  answer: string,
  correctAnswer: string,
  task: HardExample['task'] = 'vqa',
  confident = false,
) {
  return {
    example: { id, task, question: 'Is there a pleural effusion?', answer } as HardExample,
    correctAnswer,
    image: { kind: 'hard_example', id },
    confident,
  } satisfies LiveTrainingCase;
}

test("a clinician's correction becomes an on-policy pair on the stored image; a confirmation does not", () => {
  const pairs = livePairs(
    [corrected('h1', 'no. The costophrenic angles are sharp.', 'yes'), corrected('h2', 'yes', 'yes')],
    3,
  );
  assert.equal(pairs.length, 1);
  const [p] = pairs;
  assert.equal(p.kind, 'on_policy');
  // Both sides in one casing (sentence case): only the content differs.
  assert.equal(p.chosen, 'Yes');
  assert.equal(p.rejected, 'No. The costophrenic angles are sharp.');
  assert.deepEqual(p.chosenImage, { kind: 'hard_example', id: 'h1' });
  assert.deepEqual(p.rejectedImage, p.chosenImage);
  assert.equal(p.provenance.task, 'closed');
  assert.equal(p.provenance.reason, 'live_feedback');
  assert.equal(livePairs([corrected('h3', 'left', 'right')], 0)[0].provenance.task, 'open');
  assert.equal(
    livePairs([corrected('h4', 'normal', 'small left effusion', 'report')], 0)[0].provenance.task,
    'report',
  );
});

test('a correction of a confident (unflagged) answer is an on-policy pair generated as live.confident_correction', () => {
  const [flagged] = livePairs([corrected('h5', 'no', 'yes')], 0);
  const [confident] = livePairs([corrected('h6', 'no', 'yes', 'vqa', true)], 0);
  assert.equal(flagged.provenance.generator, 'live.feedback');
  assert.equal(confident.kind, 'on_policy');
  assert.equal(confident.provenance.generator, 'live.confident_correction');
  assert.equal(confident.provenance.reason, 'live_feedback');
});

test('a correction that only recases the answer is no pair', () => {
  assert.deepEqual(
    livePairs([corrected('h5', 'no. the angles are sharp.', 'No. The angles are sharp.')], 0),
    [],
  );
  const [p] = livePairs(
    [corrected('h6', 'yes. there is a small left effusion.', 'No. There is no effusion.')],
    0,
  );
  assert.deepEqual(
    [p.chosen, p.rejected],
    ['No. There is no effusion.', 'Yes. There is a small left effusion.'],
  );
});
