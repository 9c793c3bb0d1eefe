import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordsToArrow } from '../../src/store/arrow-encode.ts';
import { tableSchema } from '../../src/store/schemas.ts';

test('recordsToArrow builds exactly the table schema, with nulls, empty lists and flat vectors in place', () => {
  const dim = 3;
  const schema = tableSchema('hard_examples', dim);
  const base = {
    id: 'a',
    created_at: 1_700_000_000_123,
    model_version: 'v1',
    task: 'closed',
    question: 'q',
    answer: 'yes',
    min_prob: 0.5,
    mean_logprob: -0.7,
    risk: 0.9,
    image_sha256: 'h',
    source: 'live',
    status: 'new',
  };
  const table = recordsToArrow(schema, [
    {
      ...base,
      token_probs: [0.5, 0.25],
      embedding: new Float32Array([1, 2, 3]),
      image: new Uint8Array([7]),
      label: null,
      request_id_hash: 'r',
    },
    {
      ...base,
      id: 'b',
      token_probs: [],
      embedding: new Float32Array([4, 5, 6]),
      image: null,
      label: 'no',
      request_id_hash: null,
    },
    {
      ...base,
      id: 'c',
      token_probs: [0.125],
      embedding: new Float32Array([7, 8, 9]),
      image: null,
      label: null,
      request_id_hash: null,
    },
  ]);
  assert.equal(table.numRows, 3);
  assert.deepEqual(
    table.schema.fields.map((f) => `${f.name}: ${f.type} ${f.nullable}`),
    schema.fields.map((f) => `${f.name}: ${f.type} ${f.nullable}`),
  );
  const col = (name: string) => table.getChild(name)!;
  assert.deepEqual(Array.from(col('embedding').get(1)!), [4, 5, 6]);
  assert.deepEqual(Array.from(col('embedding').get(2)!), [7, 8, 9]);
  assert.deepEqual(Array.from(col('token_probs').get(0)!), [0.5, 0.25]);
  assert.deepEqual(Array.from(col('token_probs').get(1)!), []);
  assert.deepEqual(Array.from(col('token_probs').get(2)!), [0.125]);
  assert.deepEqual([col('label').get(0), col('label').get(1), col('label').get(2)], [null, 'no', null]);
  assert.equal(col('image').nullCount, 2);
  assert.deepEqual(col('image').get(0), new Uint8Array([7]));
  assert.equal(Number(col('created_at').get(0)), 1_700_000_000_123);
  assert.equal(col('risk').get(2), 0.9);
});
