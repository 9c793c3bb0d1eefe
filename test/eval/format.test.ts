import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, formatEvalTable, toEvalRecord } from '../../src/eval/index.ts';
import { noisyPredictions, phantomSet } from './fixtures.ts';

test('the eval table shows every task, safety metric and finding; the record is plain JSON', () => {
  const { cases, samples } = phantomSet(40, 900);
  const result = evaluate(
    samples,
    noisyPredictions(samples, () => 0.2, 9),
    { cases, resamples: 100 },
  );
  const text = formatEvalTable(result);
  for (const label of [
    'closed (yes/no)',
    'report (micro F1)',
    'primary score',
    'hallucination rate',
    'POPE yes-ratio, adversarial negatives',
    'ECE of answer confidence',
    'pleural effusion',
    'reliability',
  ])
    assert.ok(text.includes(label), label);
  const primary = result.metrics.primary;
  assert.ok(
    text.includes(`${primary.value.toFixed(3)} [${primary.lo.toFixed(3)}, ${primary.hi.toFixed(3)}]`),
  );

  const record = toEvalRecord(result);
  const parsed = JSON.parse(JSON.stringify(record));
  assert.equal(parsed.schema, 'chexpo.eval/1');
  assert.equal(parsed.metrics.primary.value, primary.value);
  const empty = parsed.reliability.find((b: { count: number }) => b.count === 0);
  assert.equal(empty.accuracy, null, 'undefined values are null, not NaN');
});
