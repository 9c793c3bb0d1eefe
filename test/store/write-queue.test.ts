import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { StoreError } from '../../src/store/errors.ts';
import { metricsObserver } from '../../src/store/queue-metrics.ts';
import { type DropReason, WriteQueue } from '../../src/store/write-queue.ts';
import { delay, waitFor } from './fixtures.ts';

/** A sink that records every batch and fails its first `failures` calls. */
function recordingSink(failures = 0) {
  const batches: number[][] = [];
  let calls = 0;
  return {
    batches,
    get calls() {
      return calls;
    },
    write: async (rows: number[]) => {
      calls += 1;
      if (calls <= failures) throw new Error(`store unavailable (call ${calls})`);
      batches.push([...rows]);
    },
  };
}

const written = (batches: number[][]) => batches.flat();
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('rows are written in batches of at most batchSize, in order, and enqueue never waits', async () => {
  const sink = recordingSink();
  const queue = new WriteQueue<number>({ write: sink.write, batchSize: 64, flushIntervalMs: 10_000 });
  for (const i of range(1000)) assert.equal(queue.enqueue(i), true);
  assert.equal(sink.calls, 0, 'enqueue itself writes nothing');
  assert.equal(queue.stats().pending, 1000);
  await queue.flush();
  assert.deepEqual(written(sink.batches), range(1000));
  assert.equal(sink.batches.length, Math.ceil(1000 / 64));
  assert.ok(sink.batches.every((b) => b.length <= 64));
  const stats = queue.stats();
  assert.equal(stats.written, 1000);
  assert.equal(stats.batchesWritten, sink.batches.length);
  assert.equal(stats.pending, 0);
  await queue.close();
});

test('a full batch is written in the background without flush; a partial one after the interval', async () => {
  const sink = recordingSink();
  const queue = new WriteQueue<number>({ write: sink.write, batchSize: 10, flushIntervalMs: 50 });
  for (const i of range(25)) queue.enqueue(i);
  // Two full batches go at once; the 5 left wait for the interval timer.
  await waitFor(() => queue.stats().written === 25, 'the background writes');
  assert.deepEqual(written(sink.batches), range(25));
  assert.ok(sink.batches.length <= 3);
  await queue.close();
});

test('when capacity is reached new rows are dropped and counted, never thrown', async () => {
  const sink = recordingSink();
  const drops: DropReason[] = [];
  const queue = new WriteQueue<number>({
    write: sink.write,
    capacity: 100,
    batchSize: 1000,
    flushIntervalMs: 10_000,
    observer: { dropped: (rows, reason) => drops.push(...Array<DropReason>(rows).fill(reason)) },
  });
  let accepted = 0;
  for (const i of range(130)) if (queue.enqueue(i)) accepted += 1;
  assert.equal(accepted, 100);
  const stats = queue.stats();
  assert.equal(stats.dropped, 30);
  assert.equal(stats.droppedBy.full, 30);
  assert.equal(drops.length, 30);
  assert.ok(drops.every((r) => r === 'full'));
  await queue.flush();
  assert.deepEqual(written(sink.batches), range(100), 'the first 100 rows, the overflow is what was lost');
  await queue.close();
});

test('failed writes are retried with backoff and keep their rows: nothing is lost while there is room', async () => {
  const sink = recordingSink(3);
  const retries: number[] = [];
  const queue = new WriteQueue<number>({
    write: sink.write,
    batchSize: 16,
    retryInitialMs: 5,
    observer: { writeFailed: (_error, _rows, retryInMs) => retries.push(retryInMs) },
  });
  for (const i of range(40)) queue.enqueue(i);
  await queue.flush();
  assert.deepEqual(written(sink.batches), range(40));
  const stats = queue.stats();
  assert.equal(stats.failedAttempts, 3);
  assert.equal(stats.written, 40);
  assert.equal(stats.dropped, 0);
  assert.deepEqual(retries, [5, 10, 20], 'the delay doubles per consecutive failure');
  await queue.close();
});

test('rows keep arriving while the store is down: kept up to capacity, overflow counted, rest written after healing', async () => {
  let healthy = false;
  const batches: number[][] = [];
  const queue = new WriteQueue<number>({
    write: async (rows) => {
      if (!healthy) throw new Error('read-only file system');
      batches.push([...rows]);
    },
    capacity: 50,
    batchSize: 20,
    flushIntervalMs: 1,
    retryInitialMs: 1,
    retryMaxMs: 4,
  });
  for (const i of range(80)) queue.enqueue(i);
  await waitFor(() => queue.stats().failedAttempts >= 3, 'three failed attempts');
  assert.equal(queue.stats().pending, 50);
  assert.equal(queue.stats().droppedBy.full, 30);
  healthy = true;
  await queue.flush();
  assert.deepEqual(written(batches), range(50));
  await queue.close();
});

test('flush gives up at its timeout while the store stays down, reporting what is still queued', async () => {
  const queue = new WriteQueue<number>({
    write: async () => {
      throw new Error('down');
    },
    retryInitialMs: 5,
  });
  for (const i of range(7)) queue.enqueue(i);
  const result = await queue.flush({ timeoutMs: 30 });
  assert.equal(result.pending, 7);
  assert.ok(queue.stats().failedAttempts >= 1);
  assert.equal(queue.stats().dropped, 0);
  const closed = await queue.close({ timeoutMs: 0 });
  assert.equal(closed.pending, 7);
});

test('invalid rows are dropped at enqueue; a batch the store rejects as malformed does not block the queue', async () => {
  const batches: number[][] = [];
  const queue = new WriteQueue<number>({
    write: async (rows) => {
      if (rows.includes(13)) throw new StoreError('STORE_INVALID_ROW', 'unlucky row');
      batches.push([...rows]);
    },
    validate: (row) => {
      if (row < 0) throw new StoreError('STORE_INVALID_VECTOR', 'negative');
    },
    batchSize: 5,
  });
  for (const i of [-1, ...range(20)]) queue.enqueue(i);
  await queue.flush();
  const stats = queue.stats();
  assert.equal(stats.droppedBy.invalid, 1);
  assert.equal(stats.droppedBy.rejected, 5, 'the batch holding row 13');
  assert.equal(stats.failedAttempts, 0);
  assert.deepEqual(written(batches), [...range(10), ...range(5).map((i) => i + 15)]);
  await queue.close();
});

test('compaction runs every N written batches, serialised with writes, and its failure is only counted', async () => {
  const events: string[] = [];
  let compactions = 0;
  const queue = new WriteQueue<number>({
    write: async (rows) => {
      events.push(`write ${rows.length}`);
    },
    batchSize: 10,
    compactEveryBatches: 3,
    compact: async () => {
      compactions += 1;
      events.push('compact');
      if (compactions === 2) throw new Error('commit conflict');
    },
  });
  for (const i of range(70)) queue.enqueue(i);
  await queue.flush();
  assert.deepEqual(events, [
    ...['write 10', 'write 10', 'write 10', 'compact'],
    ...['write 10', 'write 10', 'write 10', 'compact'],
    'write 10',
  ]);
  assert.equal(queue.stats().compactions, 1);
  assert.equal(queue.stats().compactionFailures, 1);
  assert.equal(queue.stats().written, 70);
  await queue.close();
});

test('with compactIntervalMs the queue also compacts on a timer, only after something was written', async () => {
  let compactions = 0;
  const queue = new WriteQueue<number>({
    write: async () => {},
    flushIntervalMs: 1,
    compact: async () => {
      compactions += 1;
    },
    compactEveryBatches: 0,
    compactIntervalMs: 5,
  });
  await delay(30);
  assert.equal(compactions, 0, 'nothing written, nothing to compact');
  queue.enqueue(1);
  await waitFor(() => queue.stats().compactions === 1, 'a timed compaction');
  await delay(30);
  assert.equal(compactions, 1, 'no further writes, no further compactions');
  await queue.close();
});

test('close flushes, is idempotent, and later rows are dropped as closed', async () => {
  const sink = recordingSink();
  const queue = new WriteQueue<number>({ write: sink.write, flushIntervalMs: 60_000 });
  for (const i of range(5)) queue.enqueue(i);
  assert.deepEqual(await queue.close(), { pending: 0 });
  assert.deepEqual(await queue.close(), { pending: 0 });
  assert.equal(queue.enqueue(99), false);
  assert.equal(queue.stats().droppedBy.closed, 1);
  assert.deepEqual(written(sink.batches), range(5));
});

test('metricsObserver feeds prom-client counters, gauge and histogram; a throwing observer is harmless', async () => {
  const registry = new Registry();
  const writtenRows = new Counter({ name: 't_written_rows', help: 'h', registers: [registry] });
  const failedWrites = new Counter({ name: 't_failed', help: 'h', registers: [registry] });
  const droppedRows = new Counter({
    name: 't_dropped',
    help: 'h',
    labelNames: ['reason'],
    registers: [registry],
  });
  const pendingRows = new Gauge({ name: 't_pending', help: 'h', registers: [registry] });
  const writeSeconds = new Histogram({ name: 't_write_seconds', help: 'h', registers: [registry] });
  const logged: string[] = [];
  const sink = recordingSink(1);
  const queue = new WriteQueue<number>({
    write: sink.write,
    capacity: 10,
    retryInitialMs: 1,
    observer: metricsObserver({
      writtenRows,
      failedWrites,
      droppedRows,
      pendingRows,
      writeSeconds,
      log: (event) => logged.push(event),
    }),
  });
  for (const i of range(12)) queue.enqueue(i);
  assert.equal((await pendingRows.get()).values[0].value, 10);
  await queue.flush();
  assert.equal((await writtenRows.get()).values[0].value, 10);
  assert.equal((await failedWrites.get()).values[0].value, 1);
  const dropped = (await droppedRows.get()).values;
  assert.deepEqual(
    dropped.map((v) => [v.labels.reason, v.value]),
    [['full', 2]],
  );
  assert.equal((await pendingRows.get()).values[0].value, 0);
  const count = (await writeSeconds.get()).values.find((v) => v.metricName === 't_write_seconds_count');
  assert.equal(count?.value, 1);
  assert.deepEqual(logged, ['rows_dropped', 'rows_dropped', 'write_failed']);
  await queue.close();

  const throwing = new WriteQueue<number>({
    write: sink.write,
    observer: {
      pendingChanged: () => {
        throw new Error('broken metrics');
      },
    },
  });
  assert.equal(throwing.enqueue(1), true);
  await throwing.close();
  assert.equal(throwing.stats().written, 1);
});

// The timeout turns a regression (a hang) into a failure instead of a stuck suite.
test('flush and close keep their time limit when a store write hangs', { timeout: 10_000 }, async () => {
  let started = 0;
  const queue = new WriteQueue<number>({
    write: () => {
      started += 1;
      return new Promise<void>(() => {});
    },
    batchSize: 8,
    flushIntervalMs: 10_000,
  });
  for (const i of range(20)) queue.enqueue(i);
  const flushed = await queue.flush({ timeoutMs: 50 });
  assert.ok(started >= 1, 'the write was attempted');
  assert.ok(flushed.pending > 0, 'rows of a hung write are still pending, not lost');
  const closed = await queue.close({ timeoutMs: 50 });
  assert.ok(closed.pending > 0);
});
