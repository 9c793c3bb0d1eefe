import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/server/metrics.ts';
import { RunObserver } from '../../src/server/trainer/index.ts';
import type { RunRecord } from '../../src/store/index.ts';

function run(id: string, status: RunRecord['status'], pairs: Record<string, number> = {}): RunRecord {
  return {
    id,
    started_at: 1_000,
    finished_at: status === 'running' ? null : 61_000,
    status,
    record: JSON.stringify({ counts: { pairs_by_kind: pairs }, dpo: null }),
  };
}

async function counts(metrics: ReturnType<typeof createMetrics>) {
  const runs = await metrics.loopRuns.get();
  const pairs = await metrics.loopPairs.get();
  return {
    runs: Object.fromEntries(runs.values.map((v) => [v.labels.outcome, v.value])),
    pairs: Object.fromEntries(pairs.values.map((v) => [v.labels.kind, v.value])),
  };
}

test('a replica that does not train counts each finished run of the shared table once', async () => {
  const rows = [run('a', 'promoted', { negation: 4 }), run('b', 'failed'), run('c', 'running')];
  const metrics = createMetrics({ defaultMetrics: false });
  const store = {
    listRuns: async () => [...rows].reverse(),
    count: async () => 7,
    getRun: async () => null,
    putRun: async () => {},
  };
  const observer = new RunObserver({ store: async () => store, metrics });
  assert.equal(await observer.poll(), 2);
  assert.equal(await observer.poll(), 0, 'nothing is counted twice');
  rows[2] = run('c', 'rejected');
  rows.push(run('d', 'promoted', { negation: 1, laterality: 2 }));
  assert.equal(await observer.poll(), 2);
  assert.deepEqual(await counts(metrics), {
    runs: { promoted: 2, failed: 1, rejected: 1 },
    pairs: { negation: 5, laterality: 2 },
  });
  assert.equal((await metrics.loopHardExamplesPending.get()).values[0].value, 7);
});

test('an unreachable store skips the poll without throwing', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const observer = new RunObserver({
    store: async () => {
      throw new Error('store down');
    },
    metrics,
  });
  assert.equal(await observer.poll(), 0);
});
