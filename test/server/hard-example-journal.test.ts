import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeRow, encodeRow, HardExampleJournal } from '../../src/server/hard-example-journal.ts';
import { HardExampleLogger } from '../../src/server/hard-example-logger.ts';
import { LanceStore, type NewHardExample } from '../../src/store/index.ts';
import { liveRow } from './fixtures/live-row.ts';

const row = (id: string, image = false): NewHardExample =>
  liveRow(id, { image: image ? Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) : null });

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-journal-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a journal line round-trips a row exactly (float32 vector, image bytes)', () => {
  const original = row('r1', true);
  assert.deepEqual(decodeRow(encodeRow(original)), original);
  assert.equal(decodeRow('{"id":"torn'), null);
});

test('what a crashed process journaled is recovered once, torn tail ignored; landed segments are deleted', async (t) => {
  const dir = await tempDir(t);
  const crashed = new HardExampleJournal({ dir, segmentBytes: 600 });
  for (const id of ['a', 'b', 'c', 'd']) assert.equal(await crashed.append(row(id)), true);
  // The process dies here: no close(). A write torn by the crash ends the last segment.
  const segments = (await readdir(dir)).filter((n) => n.startsWith('segment-')).sort();
  assert.ok(segments.length >= 2, segments.join());
  await writeFile(join(dir, segments.at(-1)!), '{"id":"half', { flag: 'a' });

  const next = new HardExampleJournal({ dir, segmentBytes: 600 });
  const rows = await next.recover();
  assert.deepEqual(
    rows.map((r) => r.id),
    ['a', 'b', 'c', 'd'],
  );
  assert.equal(next.outstanding, 4);
  await next.resolve(['a', 'b', 'c', 'd']);
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.startsWith('segment-')),
    [],
  );
  await next.close();
});

test('the journal is bounded: past maxBytes of rows not landed, rows are not journaled', async (t) => {
  const dir = await tempDir(t);
  const journal = new HardExampleJournal({ dir, maxBytes: 900 });
  const results = [];
  for (const id of ['a', 'b', 'c', 'd']) results.push(await journal.append(row(id)));
  assert.deepEqual(results, [true, true, false, false]);
  assert.equal(journal.skipped, 2);
  await journal.resolve(['a']);
  assert.equal(await journal.append(row('e')), true);
  await journal.close();
});

test('two live servers never share a journal directory', async (t) => {
  const dir = await tempDir(t);
  // Another live process on this host (our parent) holds the directory.
  await writeFile(join(dir, 'LOCK'), JSON.stringify({ pid: process.ppid, host: hostname() }));
  const second = new HardExampleJournal({ dir });
  assert.equal(await second.append(row('b')), false);
  assert.deepEqual(await second.recover(), []);
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.startsWith('segment-')),
    [],
  );
});

test('logger: rows journaled, written, not written twice on replay; a crash before the write is replayed', async (t) => {
  const dir = await tempDir(t);
  const uri = join(dir, 'store');
  const journalDir = join(dir, 'journal');
  // Process 1 writes two rows, then "crashes" with a third still queued (a long flush interval).
  const first = new HardExampleLogger({ uri, journal: { dir: journalDir }, queue: { flushIntervalMs: 10 } });
  assert.equal(await first.record(row('landed-1')), true);
  assert.equal(await first.record(row('landed-2')), true);
  assert.deepEqual(await first.flush(), { pending: 0 });
  const slow = new HardExampleLogger({
    uri,
    journal: { dir: join(dir, 'journal-2') },
    queue: { flushIntervalMs: 60_000 },
  });
  assert.equal(await slow.record(row('queued-only')), true);
  // (no flush, no close: the row exists only in slow's queue and journal-2)

  // Restart on journal-2: the queued row is replayed; on journal 1 nothing is written again.
  for (const journal of [journalDir, join(dir, 'journal-2')]) {
    const restarted = new HardExampleLogger({
      uri,
      journal: { dir: journal },
      queue: { flushIntervalMs: 10 },
    });
    await restarted.replayJournal();
    assert.deepEqual(await restarted.flush(), { pending: 0 });
    await restarted.close();
  }
  await first.close();
  const store = await LanceStore.open({ uri, embeddingDim: 4 });
  const ids = (await store.listHardExamples()).map((r) => r.id).sort();
  await store.close();
  assert.deepEqual(ids, ['landed-1', 'landed-2', 'queued-only']);
  // A clean stop leaves no segment whose rows all landed.
  assert.deepEqual(
    (await readdir(journalDir)).filter((n) => n.startsWith('segment-')),
    [],
  );
  assert.deepEqual(
    (await readdir(join(dir, 'journal-2'))).filter((n) => n.startsWith('segment-')),
    [],
  );
});
