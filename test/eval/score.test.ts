import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scorePrediction } from '../../src/eval/index.ts';
import { predict, sample } from './fixtures.ts';

const score = (s: ReturnType<typeof sample>, text: string) => scorePrediction(s, predict(s, text)).score;

test('closed questions are scored on the first word of the short answer', () => {
  const s = sample('c', 'closed', 'yes', { finding: 'pleural_effusion', attribute: 'presence' });
  assert.equal(score(s, 'yes. There is blunting of the angle.'), 1);
  assert.equal(score(s, 'Yes, there is.'), 1);
  assert.equal(score(s, 'no. The angles are sharp.'), 0);
  assert.equal(score(s, 'maybe'), 0);
  const r = scorePrediction(s, predict(s, 'no. r'));
  assert.deepEqual(r.judgements, [
    { finding: 'pleural_effusion', present: true, asserted: false, source: 'closed' },
  ]);
});

test('choice answers match an offered option after normalisation', () => {
  const s = sample('c', 'choice', 'left', {
    finding: 'pleural_effusion',
    attribute: 'side',
    options: ['right', 'left'],
  });
  assert.equal(score(s, 'left. r'), 1);
  assert.equal(score(s, 'The left side. r'), 1);
  assert.equal(score(s, 'right. r'), 0);
  assert.equal(score(s, 'left or right. r'), 0, 'naming both options picks nothing');
  const f = sample('c', 'choice', 'pleural effusion', {
    finding: 'pleural_effusion',
    attribute: 'finding',
    options: ['consolidation', 'pleural effusion'],
  });
  assert.equal(score(f, 'a pleural effusion. r'), 1);
  assert.equal(score(f, 'consolidation. r'), 0);
});

test('open answers compare the attribute value, not the wording', () => {
  const loc = sample('c', 'open', 'right lower zone', { finding: 'consolidation', attribute: 'location' });
  assert.equal(score(loc, 'in the lower zone on the right. r'), 1);
  assert.equal(score(loc, 'left lower zone. r'), 0);
  assert.equal(score(loc, 'right upper zone. r'), 0);
  assert.equal(score(loc, 'right side. r'), 0, 'a stated zone must be answered');
  const sideOnly = sample('c', 'open', 'left hemithorax', {
    finding: 'pleural_effusion',
    attribute: 'location',
  });
  assert.equal(score(sideOnly, 'left lower zone. r'), 1);
  assert.equal(score(sideOnly, 'right hemithorax. r'), 0);
  const both = sample('c', 'open', 'lower zones', { finding: 'consolidation', attribute: 'location' });
  assert.equal(score(both, 'bilateral lower zones. r'), 1);
  assert.equal(score(both, 'right lower zone. r'), 0);

  const sev = sample('c', 'open', 'small', { finding: 'pleural_effusion', attribute: 'severity' });
  assert.equal(score(sev, 'small. r'), 1);
  assert.equal(score(sev, 'mild. r'), 1, 'a synonym of the same grade');
  assert.equal(score(sev, 'large. r'), 0);
  const marked = sample('c', 'open', 'marked', { finding: 'cardiomegaly', attribute: 'severity' });
  assert.equal(score(marked, 'severe. r'), 1);

  const size = sample('c', 'open', '12 mm', { finding: 'nodule', attribute: 'size' });
  assert.equal(score(size, '13 mm. r'), 1);
  assert.equal(score(size, '1.4 cm. r'), 1, 'within max(2 mm, 20 %) = 2.4 mm');
  assert.equal(score(size, '15 mm. r'), 0);

  const tip = sample('c', 'open', 'too low', { finding: 'endotracheal_tube', attribute: 'tip' });
  assert.equal(score(tip, 'too low. r'), 1);
  assert.equal(score(tip, 'the tip is low, in the right main bronchus. r'), 1);
  assert.equal(score(tip, 'appropriate. r'), 0);

  const ctr = sample('c', 'open', '0.55', { finding: 'cardiomegaly', attribute: 'ctr' });
  assert.equal(score(ctr, '0.55. The transverse diameter …'), 1);
  assert.equal(score(ctr, '0.56. r'), 1, 'same 0.05 bucket');
  assert.equal(score(ctr, '0.60. r'), 0);

  const type = sample('c', 'open', 'pleural effusion', { finding: 'pleural_effusion', attribute: 'type' });
  assert.equal(score(type, 'effusion. r'), 1);
  assert.equal(score(type, 'consolidation. r'), 0);
});

test('abnormality lists are scored by set F1 of the findings named', () => {
  const s = sample('c', 'abnormality_list', 'pleural effusion, nodule');
  assert.equal(score(s, 'pleural effusion, nodule. r'), 1);
  assert.equal(score(s, 'nodule, pleural effusion. r'), 1);
  // TP effusion, FP mass, FN nodule: F1 = 2/(2+1+1).
  assert.equal(score(s, 'pleural effusion, mass. r'), 0.5);
  assert.equal(score(s, 'no acute abnormality. r'), 0);
  const normal = sample('c', 'abnormality_list', 'no acute abnormality');
  assert.equal(score(normal, 'no acute abnormality. r'), 1);
  assert.equal(score(normal, 'central line. r'), 1, 'devices are not abnormalities');
});

test('report scoring uses the labeler: an absent effusion stated is a hallucination, a present one denied an omission', () => {
  const reference = 'FINDINGS: No pleural effusion. There is no pneumothorax. Heart size is normal.';
  const s = sample('c', 'report', reference);
  const stated = scorePrediction(
    s,
    predict(s, 'FINDINGS: There is a small right pleural effusion. No pneumothorax.'),
  );
  const effusion = stated.judgements.find((j) => j.finding === 'pleural_effusion');
  assert.deepEqual(effusion, {
    finding: 'pleural_effusion',
    present: false,
    asserted: true,
    source: 'report',
  });
  assert.equal(stated.score, 0, 'one false positive, nothing true to find');

  const truth = new Map([
    ['pleural_effusion', true],
    ['pneumothorax', false],
  ] as const);
  const present = sample('d', 'report', 'FINDINGS: Small left pleural effusion is noted. No pneumothorax.');
  const denied = scorePrediction(
    present,
    predict(present, 'FINDINGS: No pleural effusion. No pneumothorax.'),
    truth,
  );
  assert.deepEqual(
    denied.judgements.map((j) => [j.finding, j.present, j.asserted]),
    [
      ['pleural_effusion', true, false],
      ['pneumothorax', false, false],
    ],
  );
  const omitted = scorePrediction(present, predict(present, 'FINDINGS: No pneumothorax.'), truth);
  assert.equal(omitted.judgements[0].asserted, false, 'not mentioned is an omission too');
  const hedged = scorePrediction(
    s,
    predict(s, 'FINDINGS: Possible small pleural effusion. No pneumothorax.'),
  );
  assert.equal(
    hedged.judgements.find((j) => j.finding === 'pleural_effusion')?.asserted,
    true,
    'uncertain counts as asserted',
  );
});
