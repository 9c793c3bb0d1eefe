import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  benchmarkSeeds,
  type ExpansionSeed,
  expandBySimilarity,
  indexPool,
  lookupFrom,
  seedFilter,
  type Thresholds,
} from '../../../src/loop/mining/index.ts';
import type { ScoredSample } from '../../../src/loop/types.ts';
import type { LanceStore } from '../../../src/store/lance-store.ts';
import { DIM, tempStore } from '../../store/fixtures.ts';
import { atDistance, fakeScored } from './helpers.ts';

const thresholds: Thresholds = { closed: 0.5, choice: 0.5, open: 0.5, abnormality_list: 0.5, report: 0.5 };

let store: LanceStore;
let dispose: () => Promise<void>;
let pool: ScoredSample[];

/**
 * The seed is closed/effusion at axis 0. Around it (cosine distance in the id):
 * - same task+finding: wrong (0.02), unsure (0.04), right and sure (0.06), not scored (0.08), far (0.5);
 * - a closer row about another finding (0.01) and one of another task (0.01): the prefilter drops them;
 * - another question of the seed's own case (0.0): not a similar case.
 */
before(async () => {
  ({ store, dispose } = await tempStore());
  const e = (d: number, toward = 1) => atDistance(d, DIM, toward);
  pool = [
    fakeScored({
      id: 'seed',
      finding: 'pleural_effusion',
      caseId: 'c-seed',
      correct: false,
      embedding: e(0),
    }),
    fakeScored({
      id: 'own-case',
      finding: 'pleural_effusion',
      caseId: 'c-seed',
      correct: false,
      embedding: e(0),
    }),
    fakeScored({ id: 'wrong-02', finding: 'pleural_effusion', correct: false, embedding: e(0.02, 2) }),
    fakeScored({ id: 'unsure-04', finding: 'pleural_effusion', confidence: 0.3, embedding: e(0.04, 3) }),
    fakeScored({ id: 'sure-06', finding: 'pleural_effusion', confidence: 0.95, embedding: e(0.06, 4) }),
    fakeScored({ id: 'unscored-08', finding: 'pleural_effusion', correct: false, embedding: e(0.08, 5) }),
    fakeScored({ id: 'far-50', finding: 'pleural_effusion', correct: false, embedding: e(0.5, 6) }),
    fakeScored({ id: 'nodule-01', finding: 'nodule', correct: false, embedding: e(0.01, 7) }),
    fakeScored({
      id: 'open-01',
      task: 'open',
      finding: 'pleural_effusion',
      correct: false,
      embedding: e(0.01, 8),
    }),
  ];
  // One write of every row (the pool's batch floor is 500 rows per write; 9 rows fit in one).
  assert.equal(await indexPool(store, pool), pool.length);
});

after(async () => {
  await dispose();
});

const known = () => lookupFrom(pool.filter((s) => s.sample.id !== 'unscored-08'));

test('neighbours by cosine within the prefilter; own row and own case skipped; precision over judged rows', async () => {
  const seeds = benchmarkSeeds([{ scored: pool[0], reason: 'wrong' }]);
  const r = await expandBySimilarity(store, seeds, known(), { k: 10, maxDistance: 0.2, thresholds });
  assert.deepEqual(
    r.selected.map((s) => [s.scored.sample.id, s.reason, s.neighbourOf?.id]),
    [
      ['wrong-02', 'similar_to_hard', 'seed'],
      ['unsure-04', 'similar_to_hard', 'seed'],
    ],
  );
  assert.ok(
    Math.abs(r.selected[0].neighbourOf!.distance - 0.02) < 1e-4,
    String(r.selected[0].neighbourOf!.distance),
  );
  const o = r.overall;
  // Retrieved within 0.2: wrong-02, unsure-04, sure-06, unscored-08; far-50 dropped.
  assert.deepEqual(
    [o.seeds, o.retrieved, o.tooFar, o.unknown, o.judged, o.hard, o.kept],
    [1, 4, 1, 1, 3, 2, 2],
  );
  assert.ok(Math.abs(o.precision! - 2 / 3) < 1e-9);
  assert.equal(o.yield, 0.5);
  assert.deepEqual(r.bySource.benchmark, o);
  assert.equal(r.bySource.live.seeds, 0);
  assert.equal(r.bySource.live.precision, null);
});

test('without the prefilter the nearer rows of other findings and tasks come back; k limits the search', async () => {
  const seeds = benchmarkSeeds([{ scored: pool[0], reason: 'wrong' }]);
  const r = await expandBySimilarity(store, seeds, known(), {
    k: 2,
    maxDistance: 0.2,
    thresholds,
    prefilter: false,
  });
  assert.deepEqual(r.selected.map((s) => s.scored.sample.id).sort(), ['nodule-01', 'open-01']);
  assert.equal(r.overall.retrieved, 2);
});

test('live seeds (no case, API task vqa): no task filter, finding filter kept; duplicates counted once for the nearest seed', async () => {
  const live: ExpansionSeed = {
    id: 'he-1',
    source: 'live',
    embedding: atDistance(0, DIM),
    task: 'vqa',
    finding: 'pleural_effusion',
  };
  assert.doesNotMatch(seedFilter(live, {}), /task =/);
  assert.match(seedFilter(live, {}), /finding = 'pleural_effusion'/);
  const bench = benchmarkSeeds([{ scored: pool[0], reason: 'wrong' }]);
  const r = await expandBySimilarity(store, [...bench, live], known(), {
    k: 10,
    maxDistance: 0.2,
    thresholds,
  });
  // The live seed also reaches the benchmark seed itself (already selected: hard, not kept) and the
  // seed's own case; both seeds retrieve wrong-02, unsure-04, sure-06 and unscored-08 (duplicates).
  assert.equal(r.overall.duplicates, 4);
  assert.equal(r.overall.alreadySelected, 1);
  const ids = r.selected.map((s) => s.scored.sample.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.includes('own-case') && ids.includes('open-01') && ids.includes('wrong-02'), ids.join());
  assert.equal(r.selected.find((s) => s.scored.sample.id === 'open-01')!.reason, 'similar_to_live');
  assert.equal(r.bySource.live.alreadySelected, 1);
  assert.equal(r.overall.retrieved, r.bySource.live.retrieved + r.bySource.benchmark.retrieved);
});

test('a where clause is honoured, and bad options are refused', async () => {
  const seeds = benchmarkSeeds([{ scored: pool[0], reason: 'wrong' }]);
  const r = await expandBySimilarity(store, seeds, known(), {
    k: 10,
    maxDistance: 0.2,
    thresholds,
    where: "sample_id <> 'wrong-02'",
  });
  assert.deepEqual(
    r.selected.map((s) => s.scored.sample.id),
    ['unsure-04'],
  );
  await assert.rejects(expandBySimilarity(store, seeds, known(), { k: 0, maxDistance: 0.2, thresholds }), {
    code: 'CHEXPO_ERR_MINING_BAD_OPTION',
  });
});
