/**
 * The single-writer lease of loop rounds: `<root>/<name>/.round-lease.json`, beside the registry it
 * protects, so every replica, the trainer CronJob and a restarted server see the same one.
 *
 *   {"holder":"chexpo loop run","run_id":"run-…","pid":4711,"host":"pod-a","nonce":"…",
 *    "acquired_at":"…","heartbeat_at":"…","ttl_ms":60000}
 *
 * Taken with an exclusive create (O_EXCL); the holder rewrites it (atomic rename) every ttl/4 with a
 * new `heartbeat_at`. A lease whose heartbeat is older than its `ttl_ms` belongs to a dead or hung
 * holder and may be taken over: it is moved aside with the same rename-then-check step that breaks
 * stale registry locks, so of two contenders only one wins. A holder that finds the file no longer
 * carries its nonce has lost the lease and must not publish.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defineErrors } from '../errors/define.ts';
import { isErrno } from './errors.ts';
import { breakIf, tempSibling, writeFileAtomic } from './fs-atomic.ts';

/**
 * Leases this process holds or is taking: given back on any exit (process.exit after the parent
 * went away, an uncaught error such as EPIPE on a dead parent's pipe), so a dying round never
 * leaves its lease to expire by ttl.
 */
const heldHere = new Set<{ path: string; nonce: string }>();
let exitHookInstalled = false;

function releaseOnExit(entry: { path: string; nonce: string }): void {
  heldHere.add(entry);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const held of heldHere) unlinkIfOurs(held.path, held.nonce);
  });
}

function unlinkIfOurs(path: string, nonce: string): void {
  try {
    if (parseLease(readFileSync(path, 'utf8'))?.nonce === nonce) unlinkSync(path);
  } catch {
    // Gone already, or unreadable: it expires by itself.
  }
}

export const LEASE_FILE = '.round-lease.json';
export const DEFAULT_LEASE_TTL_MS = 60_000;

export interface LeaseRecord {
  holder: string;
  run_id: string;
  pid: number;
  host: string;
  nonce: string;
  acquired_at: string;
  heartbeat_at: string;
  ttl_ms: number;
}

/** The lease of the registry `<root>/<name>`. */
export function leasePath(registryRoot: string, name: string): string {
  return join(registryRoot, name, LEASE_FILE);
}

function parseLease(text: string): LeaseRecord | null {
  try {
    const doc = JSON.parse(text) as LeaseRecord;
    return typeof doc.nonce === 'string' && typeof doc.heartbeat_at === 'string' ? doc : null;
  } catch {
    return null;
  }
}

/** The lease as stored, or null when there is none (or it is unreadable: treated as expired). */
export async function readLease(path: string): Promise<LeaseRecord | null> {
  try {
    return parseLease(await readFile(path, 'utf8'));
  } catch (thrown) {
    if (isErrno(thrown, 'ENOENT')) return null;
    throw thrown;
  }
}

export function leaseExpired(lease: LeaseRecord | null, now = Date.now()): boolean {
  if (lease === null) return true;
  const beat = Date.parse(lease.heartbeat_at);
  return !Number.isFinite(beat) || now - beat > lease.ttl_ms;
}

/** A live lease is held by someone else. */
export class LeaseHeldError extends defineErrors('LeaseHeldError', {
  LOOP_LEASE_HELD: {
    when: 'A round could not start: another live round holds the registry lease (the message names its run, pid and host). Wait for it, or for its lease to expire if its process died.',
  },
}) {
  readonly lease: LeaseRecord;
  constructor(lease: LeaseRecord) {
    super(
      'LOOP_LEASE_HELD',
      `another round holds the registry lease: run ${lease.run_id}, pid ${lease.pid} on ${lease.host}, ` +
        `last heartbeat ${lease.heartbeat_at}`,
    );
    this.lease = lease;
  }
}

export interface AcquireOptions {
  holder: string;
  runId: string;
  ttlMs?: number;
  /** Called once if a heartbeat finds the lease taken over (the holder must stop before publishing). */
  onLost?: () => void;
}

export class RoundLease {
  private record: LeaseRecord;
  private timer: NodeJS.Timeout | null = null;
  private lostFlag = false;
  private released = false;

  readonly path: string;
  private readonly onLost?: () => void;
  private readonly exitEntry: { path: string; nonce: string };
  private constructor(
    path: string,
    record: LeaseRecord,
    onLost: (() => void) | undefined,
    exitEntry: { path: string; nonce: string },
  ) {
    this.path = path;
    this.onLost = onLost;
    this.record = record;
    this.exitEntry = exitEntry;
  }

  /** Takes the lease, or throws LeaseHeldError while a live holder has it; heartbeats until released. */
  static async acquire(path: string, options: AcquireOptions): Promise<RoundLease> {
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    for (let attempt = 0; attempt < 5; attempt++) {
      const at = new Date().toISOString();
      const record: LeaseRecord = {
        holder: options.holder,
        run_id: options.runId,
        pid: process.pid,
        host: hostname(),
        nonce: randomUUID(),
        acquired_at: at,
        heartbeat_at: at,
        ttl_ms: ttlMs,
      };
      // Written whole to a temporary, then hard-linked into place: the link fails if a lease exists,
      // and nobody ever sees an empty or half-written lease file.
      const temp = tempSibling(path, 'lease');
      const entry = { path, nonce: record.nonce };
      releaseOnExit(entry);
      try {
        await writeFile(temp, `${JSON.stringify(record)}\n`, { flag: 'wx' });
        await link(temp, path);
        const lease = new RoundLease(path, record, options.onLost, entry);
        lease.startHeartbeat();
        return lease;
      } catch (thrown) {
        heldHere.delete(entry);
        if (!isErrno(thrown, 'EEXIST')) throw thrown;
      } finally {
        await rm(temp, { force: true });
      }
      const current = await readLease(path);
      if (current && !leaseExpired(current)) throw new LeaseHeldError(current);
      // Expired (or unreadable): move it aside unless it changed since we judged it.
      await breakIf(path, (content) => leaseExpired(parseLease(content)));
    }
    const current = await readLease(path);
    if (current) throw new LeaseHeldError(current);
    throw new Error(`could not take the registry lease ${path}`);
  }

  get lost(): boolean {
    return this.lostFlag;
  }

  get runId(): string {
    return this.record.run_id;
  }

  /** Rewrites the heartbeat if the file still carries this holder's nonce; false once lost. */
  async heartbeat(): Promise<boolean> {
    if (this.released || this.lostFlag) return !this.lostFlag;
    const current = await readLease(this.path).catch(() => null);
    if (current?.nonce !== this.record.nonce) {
      heldHere.delete(this.exitEntry);
      this.markLost();
      return false;
    }
    this.record = { ...this.record, heartbeat_at: new Date().toISOString() };
    await writeFileAtomic(this.path, `${JSON.stringify(this.record)}\n`).catch(() => undefined);
    return true;
  }

  /** Removes the lease if it is still this holder's. Idempotent. */
  async release(): Promise<void> {
    this.stop();
    if (this.released) return;
    this.released = true;
    const current = await readLease(this.path).catch(() => null);
    if (current?.nonce === this.record.nonce) await rm(this.path, { force: true });
    heldHere.delete(this.exitEntry);
  }

  /** The same, synchronously: for a process about to exit (its parent went away). */
  releaseSync(): void {
    this.stop();
    if (this.released) return;
    this.released = true;
    unlinkIfOurs(this.path, this.record.nonce);
    heldHere.delete(this.exitEntry);
  }

  private startHeartbeat(): void {
    this.timer = setInterval(() => void this.heartbeat(), Math.max(50, Math.floor(this.record.ttl_ms / 4)));
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private markLost(): void {
    if (this.lostFlag) return;
    this.lostFlag = true;
    this.stop();
    this.onLost?.();
  }
}
