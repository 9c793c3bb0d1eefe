import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitTarget } from '../../../src/data/instructions/index.ts';
import { editCase } from '../../../src/data/phantom/index.ts';
import { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import type { InstructionSample, LabelledCase } from '../../../src/data/types.ts';
import { scorePrediction } from '../../../src/eval/score.ts';
import { truthFromCases } from '../../../src/eval/truth.ts';
import {
  DEFAULT_KIND_WEIGHTS,
  draftsFor,
  judgeAnswer,
  pairsFor,
  sentenceCase,
} from '../../../src/loop/pairs/index.ts';
import { PAIR_KINDS, type PairKind } from '../../../src/store/contract.ts';
import { corpus, selected } from './fixtures.ts';

const items = corpus(40);
const TEXT_KINDS = PAIR_KINDS.filter((k) => k !== 'on_policy' && k !== 'image_counterfactual');

function score(sample: InstructionSample, c: LabelledCase, text: string) {
  const prediction = { sample_id: sample.id, text, answer_prob: 1, min_prob: 1, mean_logprob: 0 };
  return scorePrediction(sample, prediction, truthFromCases([c]).get(c.id));
}

test('every text kind yields rejected answers the scorer marks wrong, with chosen marked right', () => {
  const seen = new Map<PairKind, number>();
  for (const { c, sample } of items) {
    assert.equal(judgeAnswer(sample, c, sample.target_text).verdict, 'right', sample.id);
    for (const d of draftsFor(selected(c, sample), { seed: 3, kinds: TEXT_KINDS })) {
      seen.set(d.kind, (seen.get(d.kind) ?? 0) + 1);
      assert.notEqual(d.rejected, sample.target_text);
      assert.equal(judgeAnswer(sample, c, d.rejected).verdict, 'wrong', `${d.generator}: ${d.rejected}`);
      // Short-answer tasks: the project's scorer alone gives 0; lists and reports lose F1 unless the
      // error is an attribute the presence scorer cannot see.
      const s = score(sample, c, d.rejected);
      if (sample.task !== 'report' && sample.task !== 'abnormality_list')
        assert.equal(s.score, 0, d.generator);
      if (['negation', 'confusable', 'cooccurrence'].includes(d.kind)) assert.ok(s.score < 1, d.generator);
      // Same target format as the synthesiser: "<answer>. <rationale>" with a non-empty rationale.
      if (sample.task !== 'report') assert.ok(splitTarget(d.rejected).rationale.length > 20, d.rejected);
    }
  }
  for (const kind of TEXT_KINDS) assert.ok((seen.get(kind) ?? 0) >= 10, `${kind}: ${seen.get(kind) ?? 0}`);
});

test('rejected texts stay inside the vocabulary of the training texts', () => {
  const training = corpus(300, 50_000).flatMap(({ sample }) => [sample.question, sample.target_text]);
  const tokenizer = Tokenizer.build(training);
  let unknown = 0;
  let words = 0;
  for (const { c, sample } of items)
    for (const d of draftsFor(selected(c, sample), { seed: 3, kinds: TEXT_KINDS })) {
      const e = tokenizer.encode(d.rejected);
      unknown += e.unknown;
      words += e.ids.length;
    }
  assert.ok(words > 10_000);
  assert.ok(unknown / words < 0.001, `unknown rate ${unknown}/${words}`);
});

test('image counterfactuals keep the chosen text and edit the finding so the chosen answer is wrong', () => {
  let n = 0;
  for (const { c, sample } of items) {
    const [d] = draftsFor(selected(c, sample), { seed: 5, kinds: ['image_counterfactual'] });
    if (!d) continue;
    n++;
    assert.equal(d.rejected, sample.target_text);
    assert.equal(d.rejectedImage?.kind, 'phantom_edit');
    if (d.rejectedImage?.kind !== 'phantom_edit') continue;
    const { edit } = d.rejectedImage;
    const edited = editCase(c, edit);
    const before = c.findings.find((f) => f.name === edit.finding);
    const after = edited.findings.find((f) => f.name === edit.finding);
    assert.notDeepEqual(after, before);
    if (sample.task === 'closed') assert.equal(after?.present, sample.answer === 'no', sample.id);
    if (sample.task === 'report' || sample.task === 'abnormality_list')
      assert.equal(judgeAnswer(sample, edited, sample.target_text).verdict, 'wrong', sample.id);
  }
  assert.ok(n > items.length / 2, `${n} of ${items.length}`);
});

test('the model’s own wrong answer becomes an on-policy pair, first, and only when wrong and readable', () => {
  let made = 0;
  for (const { c, sample } of items.slice(0, 150)) {
    const wrong = draftsFor(selected(c, sample), { seed: 1, kinds: TEXT_KINDS })[0];
    if (!wrong) continue;
    const pairs = pairsFor(selected(c, sample, wrong.rejected), { seed: 1, maxPerSample: 2 });
    assert.equal(pairs[0].kind, 'on_policy');
    assert.equal(pairs[0].rejected, sentenceCase(wrong.rejected));
    assert.equal(pairs[0].weight, DEFAULT_KIND_WEIGHTS.on_policy);
    made++;
    assert.ok(!pairsFor(selected(c, sample), { seed: 1 }).some((p) => p.kind === 'on_policy'));
    assert.ok(
      !pairsFor(selected(c, sample, 'I cannot tell.'), { seed: 1 }).some((p) => p.kind === 'on_policy'),
      'an unreadable answer is no preference signal',
    );
  }
  assert.ok(made > 50);
});

test('pairs are deterministic by seed, capped per sample, filtered by kind, with provenance', () => {
  let differs = 0;
  for (const { c, sample } of items.slice(0, 120)) {
    const s = selected(c, sample);
    const a = pairsFor(s, { seed: 11 });
    assert.deepEqual(pairsFor(s, { seed: 11 }), a);
    if (JSON.stringify(pairsFor(s, { seed: 12 })) !== JSON.stringify(a)) differs++;
    assert.ok(a.length <= 2);
    assert.equal(new Set(a.map((p) => p.kind)).size, a.length);
    for (const p of a) {
      assert.equal(p.chosen, sentenceCase(sample.target_text));
      assert.equal(p.prompt, sample.question);
      assert.deepEqual(p.chosenImage, { kind: 'case', case_id: c.id });
      assert.equal(p.provenance.sample_id, sample.id);
      assert.equal(p.provenance.seed, 11);
      assert.ok(p.provenance.generator.startsWith(p.kind));
      assert.equal(p.weight, DEFAULT_KIND_WEIGHTS[p.kind]);
    }
    const only = pairsFor(s, { seed: 11, kinds: ['negation'], maxPerSample: 5 });
    assert.ok(only.every((p) => p.kind === 'negation'));
  }
  assert.ok(differs > 10, `a different seed changes some pairs (${differs})`);
  assert.throws(() => pairsFor(selected(items[0].c, items[0].sample), { seed: 1, maxPerSample: 0 }), {
    code: 'PAIRS_BAD_OPTIONS',
  });
});
