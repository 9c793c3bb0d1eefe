import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import { indexPool, parseLiveLabel, readLiveHardExamples } from '../../../src/loop/mining/index.ts';
import type { LanceStore } from '../../../src/store/lance-store.ts';
import { DIM, hardExample, tempStore } from '../../store/fixtures.ts';
import { fakeScored } from './helpers.ts';

let store: LanceStore;
let dispose: () => Promise<void>;

const feedback = (verdict: 'correct' | 'incorrect', correct_answer?: string) =>
  JSON.stringify({
    verdict,
    ...(correct_answer ? { correct_answer } : {}),
    by: 'key-1',
    at: '2025-01-01T00:00:00Z',
  });

before(async () => {
  ({ store, dispose } = await tempStore());
  const rng = Rng.derive(5, 'live');
  const png = new Uint8Array([137, 80, 78, 71]);
  await store.addHardExamples([
    hardExample(0, rng, { task: 'vqa', question: 'Is there a pleural effusion?' }),
    hardExample(1, rng, { label: feedback('incorrect', 'yes'), image: png }),
    hardExample(2, rng, { label: feedback('incorrect', 'no') }),
    hardExample(3, rng, { label: feedback('correct'), image: png }),
    hardExample(4, rng, { status: 'mined' }),
    hardExample(5, rng, { source: 'benchmark' }),
    hardExample(6, rng, { task: 'report', question: 'Describe the effusion and the nodule.' }),
  ]);
});

after(async () => {
  await dispose();
});

test('live seeds: new and labelled live rows only, oldest first, with parsed labels and the question finding', async () => {
  const live = await readLiveHardExamples(store);
  assert.deepEqual(
    live.seeds.map((s) => s.id),
    ['he-0', 'he-1', 'he-2', 'he-3', 'he-6'],
  );
  const [s0, s1, , s3, s6] = live.seeds;
  assert.equal(s0.finding, 'pleural_effusion');
  assert.equal(s0.task, 'vqa');
  assert.equal(s0.label, null);
  assert.equal(s0.embedding.length, DIM);
  assert.deepEqual(s1.label, { verdict: 'incorrect', correctAnswer: 'yes' });
  assert.deepEqual(s3.label, { verdict: 'correct' });
  assert.equal(s6.finding, undefined, 'reports are not narrowed to one finding');
  assert.equal((await readLiveHardExamples(store, { limit: 2 })).seeds.length, 2);
});

test('direct training cases: corrected rows with a stored image only', async () => {
  const live = await readLiveHardExamples(store);
  assert.deepEqual(
    live.direct.map((d) => [d.example.id, d.correctAnswer, d.image]),
    [['he-1', 'yes', { kind: 'hard_example', id: 'he-1' }]],
  );
  assert.equal(live.correctedWithoutImage, 1);
});

test('parseLiveLabel: feedback JSON, plain reference answers, nothing', () => {
  assert.equal(parseLiveLabel(null, 'yes'), null);
  assert.deepEqual(parseLiveLabel('Yes', 'yes'), { verdict: 'correct', correctAnswer: 'Yes' });
  assert.deepEqual(parseLiveLabel('no', 'yes'), { verdict: 'incorrect', correctAnswer: 'no' });
  assert.deepEqual(parseLiveLabel(feedback('incorrect', 'right upper lobe'), 'left'), {
    verdict: 'incorrect',
    correctAnswer: 'right upper lobe',
  });
});

test('indexPool: one row per sample in writes of ≥ 500 rows; wrong widths and small batches refused', async () => {
  const rng = Rng.derive(6, 'pool');
  const unit = () => {
    const v = Float32Array.from({ length: DIM }, () => rng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const entries = Array.from({ length: 1200 }, (_, i) =>
    fakeScored({
      id: `p${i}`,
      caseId: `c${i % 100}`,
      finding: i % 2 ? 'nodule' : undefined,
      embedding: unit(),
    }),
  );
  const before = await store.stats('pool');
  assert.equal(await indexPool(store, entries, { batchSize: 500 }), 1200);
  const after = await store.stats('pool');
  assert.equal(after.rows - before.rows, 1200);
  assert.equal(after.fragments - before.fragments, 3, 'three writes: 500 + 500 + 200');
  const [row] = await store.listPool({ where: "id = 'p1'" });
  assert.deepEqual(
    [row.sample_id, row.case_id, row.task, row.finding, row.split],
    ['p1', 'c1', 'closed', 'nodule', 'train'],
  );
  assert.equal((await store.listPool({ where: "id = 'p0'" }))[0].finding, null);
  await assert.rejects(indexPool(store, entries, { batchSize: 499 }), {
    code: 'CHEXPO_ERR_MINING_BAD_OPTION',
  });
  await assert.rejects(indexPool(store, [fakeScored({ id: 'w', embedding: new Float32Array(3) })]), {
    code: 'CHEXPO_ERR_MINING_BAD_DATA',
  });
});
