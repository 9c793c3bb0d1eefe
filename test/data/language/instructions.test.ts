import assert from 'node:assert/strict';
import { test } from 'node:test';
import { severityWord } from '../../../src/data/catalogue.ts';
import {
  ABSENT_ANSWER,
  ALL_TEMPLATE_IDS,
  balanceByPrompt,
  formatTarget,
  promptGroup,
  splitTarget,
  synthesizeInstructions,
} from '../../../src/data/instructions/index.ts';
import { Rng } from '../../../src/data/random.ts';
import type { InstructionSample, LabelledCase, TaskType } from '../../../src/data/types.ts';
import { effusionCase, randomCases } from './cases.ts';

const corpus = (n: number, seed: number): { c: LabelledCase; samples: InstructionSample[] }[] =>
  randomCases(n, seed, 0.3).map((c) => ({ c, samples: synthesizeInstructions(c, Rng.derive(seed, c.id)) }));

const CORPUS = corpus(400, 41);
const ALL = CORPUS.flatMap((x) => x.samples);

test('every task type and every phrasing template appears over a few hundred cases', () => {
  const tasks = new Set(ALL.map((s) => s.task));
  for (const t of ['closed', 'choice', 'open', 'abnormality_list', 'report'] as TaskType[])
    assert.ok(tasks.has(t), t);
  for (const s of ALL) assert.doesNotMatch(s.question, /[{}]/, s.question);
  const used = new Set(ALL.map((s) => s.template));
  assert.deepEqual(
    ALL_TEMPLATE_IDS.filter((id) => !used.has(id)),
    [],
  );
  const attributes = new Set(ALL.map((s) => `${s.task}:${s.attribute}`));
  for (const a of [
    'choice:side',
    'choice:finding',
    'choice:severity',
    'choice:tip',
    'open:location',
    'open:severity',
    'open:size',
    'open:type',
    'open:tip',
    'open:ctr',
  ]) {
    assert.ok(attributes.has(a), a);
  }
});

test('closed answers are balanced and include hard negatives', () => {
  const closed = balanceByPrompt(ALL, new Rng(4)).samples.filter((s) => s.task === 'closed');
  const yes = closed.filter((s) => s.answer === 'yes').length;
  const ratio = yes / closed.length;
  assert.ok(ratio > 0.35 && ratio < 0.6, `yes ratio ${ratio}`);
  const hard = closed.filter((s) => s.answer === 'no' && /which can mimic|accompanies it/.test(s.rationale));
  assert.ok(hard.length > closed.length * 0.1, `hard negatives ${hard.length}`);
});

test('answers are right and rationales mention the actual side and severity', () => {
  for (const { c, samples } of CORPUS) {
    for (const s of samples) {
      if (s.task === 'report' || !s.finding) continue;
      const f = c.findings.find((x) => x.name === s.finding);
      assert.ok(f, `${s.id} asks about a finding the case does not label`);
      if (s.task === 'closed') assert.equal(s.answer, f.present ? 'yes' : 'no');
      if (!f.present) continue;
      if (f.side && s.attribute !== 'ctr') {
        const sideWord = f.side === 'bilateral' ? /bilateral|both/ : new RegExp(`\\b${f.side}\\b`);
        assert.match(s.rationale, sideWord, s.rationale);
      }
      if (f.severity && s.attribute !== 'ctr')
        assert.ok(s.rationale.includes(severityWord(f.name, f.severity)!), s.rationale);
      if (s.attribute === 'side') assert.equal(s.answer, f.side);
      if (s.attribute === 'severity') assert.equal(s.answer, severityWord(f.name, f.severity!));
      if (s.options) {
        assert.equal(s.options.length, 2);
        assert.ok(s.options.includes(s.answer) || s.answer === ABSENT_ANSWER, `${s.answer} / ${s.options}`);
        for (const o of s.options) assert.ok(s.question.includes(o), `${s.question} / ${o}`);
      }
    }
  }
});

test('the hand-made effusion case gets the documented rationale and target format', () => {
  const samples = Array.from({ length: 30 }, (_, i) =>
    synthesizeInstructions(effusionCase(), new Rng(i)),
  ).flat();
  const yes = samples.find(
    (s) => s.task === 'closed' && s.finding === 'pleural_effusion' && /blunting/.test(s.rationale),
  );
  assert.ok(yes);
  assert.equal(
    yes.target_text,
    'yes. There is blunting of the right costophrenic angle with a meniscus, consistent with a small right pleural effusion.',
  );
  for (const s of samples.filter((x) => x.task !== 'report')) {
    assert.deepEqual(splitTarget(s.target_text), { answer: s.answer, rationale: s.rationale });
  }
  const ctr = samples.find((s) => s.attribute === 'ctr');
  assert.equal(ctr?.answer, '0.60');
  const list = samples.find((s) => s.task === 'abnormality_list');
  assert.equal(list?.answer, 'pleural effusion, cardiomegaly');
});

test('unknown findings are never asked about; attribute-less findings get presence questions only', () => {
  const imported: LabelledCase = {
    id: 'imp',
    findings: [
      { name: 'pleural_effusion', present: true },
      { name: 'pneumothorax', present: false },
      { name: 'nodule', present: true },
    ],
  };
  for (let seed = 0; seed < 50; seed++) {
    for (const s of synthesizeInstructions(imported, new Rng(seed))) {
      assert.ok(s.task === 'closed' || s.task === 'report', `${s.task} ${s.question}`);
      if (s.finding) assert.ok(['pleural_effusion', 'pneumothorax', 'nodule'].includes(s.finding));
      if (s.task === 'report') assert.doesNotMatch(s.answer, /cardiomegaly|heart|mass|edema/i);
    }
  }
});

test('per-task counts are honoured and synthesis is deterministic', () => {
  const c = randomCases(1, 99, 0.5)[0];
  const few = synthesizeInstructions(c, new Rng(1), {
    perTask: { closed: 2, choice: 0, open: 1, report: 0 },
  });
  const count = (t: TaskType): number => few.filter((s) => s.task === t).length;
  assert.ok(count('closed') > 0);
  assert.equal(count('choice'), 0);
  const none = synthesizeInstructions(c, new Rng(1), { perTask: { closed: 0 } });
  assert.equal(none.filter((s) => s.task === 'closed').length, 0);
  assert.ok(count('open') <= 2, 'one present-finding and at most one absent-finding open question');
  assert.equal(count('report'), 0);
  assert.deepEqual(synthesizeInstructions(c, new Rng(7)), synthesizeInstructions(c, new Rng(7)));
  assert.equal(new Set(few.map((s) => s.id)).size, few.length);
});

test('answers never contain a sentence period', () => {
  assert.throws(() => formatTarget('yes. no', 'x'));
  assert.equal(formatTarget('0.55', 'Ratio.'), '0.55. Ratio.');
  assert.deepEqual(splitTarget('0.55. Ratio.'), { answer: '0.55', rationale: 'Ratio.' });
});

test('balanced by prompt: no wording, finding or option set predicts its answer', () => {
  const { samples, report } = balanceByPrompt(ALL, Rng.derive(3, 'balance'));
  assert.ok(report.dropped > 0 && report.kept > ALL.length / 3, JSON.stringify(report));
  const counts = new Map<string, Map<string, number>>();
  for (const s of samples) {
    const g = promptGroup(s);
    if (!g) continue;
    const byClass = counts.get(g.key) ?? new Map<string, number>();
    byClass.set(g.answerClass, (byClass.get(g.answerClass) ?? 0) + 1);
    counts.set(g.key, byClass);
  }
  for (const [key, byClass] of counts)
    assert.equal(new Set(byClass.values()).size, 1, `${key}: ${[...byClass]}`);
  // Closed: exactly half yes for every finding asked.
  const closed = samples.filter((s) => s.task === 'closed');
  for (const f of new Set(closed.map((s) => s.finding))) {
    const about = closed.filter((s) => s.finding === f);
    assert.equal(about.filter((s) => s.answer === 'yes').length * 2, about.length, String(f));
  }
  // Absent findings are asked in choice and open form too, and "bilateral" is not always the answer.
  assert.ok(samples.some((s) => s.task === 'choice' && s.answer === ABSENT_ANSWER));
  assert.ok(samples.some((s) => s.task === 'open' && s.answer === ABSENT_ANSWER));
  const sides = samples.filter((s) => s.attribute === 'side' && s.options?.includes('bilateral'));
  assert.ok(sides.some((s) => s.answer !== 'bilateral'));
  // Closed negatives carry their POPE sampling.
  const kinds = new Set(closed.filter((s) => s.answer === 'no').map((s) => s.negative));
  assert.deepEqual([...kinds].sort(), ['adversarial', 'popular', 'random']);
});
