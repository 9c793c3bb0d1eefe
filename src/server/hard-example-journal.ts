/**
 * The hard-example journal: every flagged row is appended to a local file and made durable
 * (fdatasync) before its answer returns, so a crash (`kill -9`, OOM kill, power loss) between the
 * answer and the store write loses nothing the client was told was flagged. On start the journal
 * is replayed into the store (rows already there are skipped, so none is written twice); a segment
 * is deleted once every row in it has landed in the store (or was dropped for good).
 *
 * Layout: `<dir>/segment-<n>.jsonl`, one JSON line per row, `n` increasing. Appends are group
 * commits: the lines waiting when a write starts go out in one write followed by one fdatasync, so
 * concurrent answers share the sync. Bounded: past `maxBytes` of rows not yet landed, new rows are
 * not journaled (counted; they still go to the write queue, as before the journal existed).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { NewHardExample } from '../store/index.ts';

export interface JournalOptions {
  dir: string;
  /** Rotate to a new segment past this size; default 4 MiB. */
  segmentBytes?: number;
  /** Rows not yet landed may hold at most this many bytes; default 256 MiB. */
  maxBytes?: number;
  log?: (event: string, details: Record<string, unknown>) => void;
}

interface Segment {
  index: number;
  path: string;
  bytes: number;
  /** Ids written to this segment and not yet landed or dropped. */
  outstanding: Set<string>;
  /** Bytes of each outstanding row, to keep `outstandingBytes` exact. */
  sizes: Map<string, number>;
}

type Handle = Awaited<ReturnType<typeof open>>;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SEGMENT = /^segment-(\d{8})\.jsonl$/;
const segmentName = (index: number): string => `segment-${String(index).padStart(8, '0')}.jsonl`;

/** A row as one JSON line: the vector as numbers (float32 round-trips exactly), the image as base64. */
export function encodeRow(row: NewHardExample): string {
  return JSON.stringify({
    ...row,
    embedding: Array.from(row.embedding),
    image: row.image ? Buffer.from(row.image).toString('base64') : null,
  });
}

export function decodeRow(line: string): NewHardExample | null {
  try {
    const doc = JSON.parse(line) as Record<string, unknown>;
    if (typeof doc.id !== 'string' || !Array.isArray(doc.embedding)) return null;
    return {
      ...(doc as unknown as NewHardExample),
      embedding: Float32Array.from(doc.embedding as number[]),
      image: typeof doc.image === 'string' ? new Uint8Array(Buffer.from(doc.image, 'base64')) : null,
    };
  } catch {
    return null; // a line torn by the crash
  }
}

export class HardExampleJournal {
  private readonly segmentBytes: number;
  private readonly maxBytes: number;
  private readonly segments = new Map<number, Segment>();
  /** Which segment holds each outstanding id. */
  private readonly where = new Map<string, Segment>();
  private current: Segment | null = null;
  private handle: Handle | null = null;
  private waiting: { row: NewHardExample; line: string; done: (ok: boolean) => void }[] = [];
  private writing: Promise<void> | null = null;
  private outstandingBytes = 0;
  private nextIndex = 0;
  private closed = false;
  private lockPath: string | null = null;
  private recovered: Promise<void> | undefined;
  /** Rows not journaled (over the bound, or a write failed). */
  skipped = 0;

  private readonly options: JournalOptions;
  constructor(options: JournalOptions) {
    this.options = options;
    this.segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  }

  /**
   * Takes the directory (`<dir>/LOCK`, exclusive create, with pid and host): two live servers must
   * never share a journal. A lock whose process is gone on this host is taken over. False when
   * another live process holds it: this journal then records nothing (rows go to the queue only).
   */
  private lock(): boolean {
    mkdirSync(this.options.dir, { recursive: true });
    const path = join(this.options.dir, 'LOCK');
    const mine = JSON.stringify({ pid: process.pid, host: hostname() });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(path, mine, { flag: 'wx' });
        this.lockPath = path;
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        // unreadable: a torn write of a crashed holder
      }
      if (holder.host !== undefined && holder.host !== hostname()) return false;
      if (holder.pid !== undefined && holder.pid !== process.pid && processAlive(holder.pid)) return false;
      rmSync(path, { force: true });
    }
    return false;
  }

  /**
   * Reads every segment left by an earlier process: the rows in them, oldest first, each once.
   * They stay outstanding in their segments until `resolve`d; new rows go to a new segment.
   */
  recover(): Promise<NewHardExample[]> {
    if (this.recovered) return this.recovered.then(() => []);
    const rows = this.readSegments();
    this.recovered = rows.then(
      () => undefined,
      () => undefined,
    );
    return rows;
  }

  private async readSegments(): Promise<NewHardExample[]> {
    if (!this.lock()) {
      this.closed = true;
      this.options.log?.('journal_locked', { dir: this.options.dir });
      return [];
    }
    const names = (await readdir(this.options.dir)).filter((n) => SEGMENT.test(n)).sort();
    const rows: NewHardExample[] = [];
    for (const name of names) {
      const index = Number(SEGMENT.exec(name)![1]);
      this.nextIndex = Math.max(this.nextIndex, index + 1);
      const path = join(this.options.dir, name);
      const segment: Segment = { index, path, bytes: 0, outstanding: new Set(), sizes: new Map() };
      for (const line of (await readFile(path, 'utf8')).split('\n')) {
        if (line === '') continue;
        const row = decodeRow(line);
        if (!row || this.where.has(row.id)) continue;
        segment.outstanding.add(row.id);
        segment.sizes.set(row.id, line.length + 1);
        this.outstandingBytes += line.length + 1;
        this.where.set(row.id, segment);
        rows.push(row);
      }
      segment.bytes = this.segmentBytes; // never appended to again
      this.segments.set(index, segment);
      if (segment.outstanding.size === 0) await this.remove(segment);
    }
    return rows;
  }

  /** Appends `row` durably; false when it was not journaled (over the bound, closed, or I/O failed). */
  async append(row: NewHardExample): Promise<boolean> {
    // Never append before the earlier process's segments are known (their rows stay for a replay).
    if (!this.recovered) void this.recover().catch(() => undefined);
    await this.recovered;
    const line = encodeRow(row);
    if (this.closed || this.outstandingBytes + line.length + 1 > this.maxBytes) {
      this.skipped += 1;
      return false;
    }
    this.outstandingBytes += line.length + 1;
    return new Promise((done) => {
      this.waiting.push({ row, line, done });
      this.writing ??= this.drain();
    });
  }

  /** The rows landed in the store (or were dropped for good): their segments may go. */
  async resolve(ids: Iterable<string>): Promise<void> {
    const touched = new Set<Segment>();
    for (const id of ids) {
      const segment = this.where.get(id);
      if (!segment) continue;
      this.where.delete(id);
      segment.outstanding.delete(id);
      this.outstandingBytes -= segment.sizes.get(id) ?? 0;
      segment.sizes.delete(id);
      touched.add(segment);
    }
    for (const segment of touched) {
      if (segment.outstanding.size > 0) continue;
      if (segment === this.current) {
        // Full and all landed: start a new segment on the next append, delete this one now.
        if (this.writing) continue;
        await this.closeCurrent();
      }
      await this.remove(segment);
    }
  }

  /** Rows journaled and not yet resolved. */
  get outstanding(): number {
    return this.where.size;
  }

  /** Waits for pending appends, closes the file. Outstanding rows stay for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.closeCurrent();
    for (const segment of [...this.segments.values()]) {
      if (segment.outstanding.size === 0) await this.remove(segment);
    }
    if (this.lockPath) rmSync(this.lockPath, { force: true });
    this.lockPath = null;
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      let ok = true;
      try {
        const segment = await this.segmentFor();
        const text = batch.map((b) => `${b.line}\n`).join('');
        await this.handle!.write(text);
        await this.handle!.datasync();
        segment.bytes += Buffer.byteLength(text);
        for (const { row, line } of batch) {
          segment.outstanding.add(row.id);
          segment.sizes.set(row.id, line.length + 1);
          this.where.set(row.id, segment);
        }
      } catch (error) {
        ok = false;
        this.skipped += batch.length;
        for (const { line } of batch) this.outstandingBytes -= line.length + 1;
        this.options.log?.('journal_write_failed', {
          rows: batch.length,
          error: error instanceof Error ? error.message : String(error),
        });
        await this.closeCurrent();
      }
      for (const b of batch) b.done(ok);
    }
    this.writing = null;
  }

  /** The segment to append to, rotating past `segmentBytes`. */
  private async segmentFor(): Promise<Segment> {
    if (this.current && this.handle && this.current.bytes < this.segmentBytes) return this.current;
    const previous = this.current;
    await this.closeCurrent();
    if (previous && previous.outstanding.size === 0) await this.remove(previous);
    mkdirSync(this.options.dir, { recursive: true });
    const index = this.nextIndex++;
    const segment: Segment = {
      index,
      path: join(this.options.dir, segmentName(index)),
      bytes: 0,
      outstanding: new Set(),
      sizes: new Map(),
    };
    this.handle = await open(segment.path, 'a', 0o600);
    // The new file's directory entry must survive a power loss too.
    const dir = await open(this.options.dir, 'r');
    await dir.sync().catch(() => undefined);
    await dir.close();
    this.segments.set(index, segment);
    this.current = segment;
    return segment;
  }

  private async closeCurrent(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    this.current = null;
    await handle?.close().catch(() => undefined);
  }

  private async remove(segment: Segment): Promise<void> {
    this.segments.delete(segment.index);
    await rm(segment.path, { force: true });
  }
}
