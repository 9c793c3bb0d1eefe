/**
 * The model registry: immutable version directories with manifests, the CURRENT pointer and its history.
 *
 *   <root>/<name>/<version>/      files + manifest.json (never modified after publish)
 *   <root>/<name>/CURRENT         the current version id and a newline, replaced atomically
 *   <root>/<name>/history.jsonl   one line per pointer move (see history.ts)
 *   <root>/<name>/published.jsonl every id ever published: ids are refused even after a version is deleted
 *   <root>/<name>/.lock           held for the short metadata steps; `.tmp-*` entries are in-flight writes
 *
 * Readers need no lock: every change a reader can observe is a single rename.
 */

import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ioCall, ioError, isErrno, RegistryError } from './errors.ts';
import { tempSibling, withLock, writeFileAtomic } from './fs-atomic.ts';
import { type HistoryEntry, type PointerAction, previousFromHistory, readHistory } from './history.ts';
import { assertUnclaimed, claimVersion, versionDirExists } from './ledger.ts';
import {
  assertModelName,
  assertVersionId,
  type DataProvenance,
  generateVersionId,
  isVersionId,
  type JsonValue,
  MANIFEST_FILE,
  MANIFEST_FORMAT_VERSION,
  type Manifest,
  parseManifest,
  type TrainingProvenance,
  validatePublishInputs,
} from './manifest.ts';
import { assertMove, type PointerMove, readCurrentFile, writePointer } from './pointer.ts';
import { abandonTempDir, checkStaging, fillTempDir, type StageMode } from './stage.ts';
import { type VerifyResult, verifyFailed, verifyVersionDir } from './verify.ts';
import { type ChangeCallback, CurrentWatcher, type WatchOptions } from './watch.ts';

/** The repo's bundled models folder (`models/`), the default root. */
export const BUNDLED_MODELS_ROOT = fileURLToPath(new URL('../../models', import.meta.url));

export interface RegistryOptions {
  /** Files every version must hold (e.g. CHEXPO_VERSION_FILES); checked at publish and verify. Default none. */
  requiredFiles?: readonly string[];
  /** Wait this long for the lock before REGISTRY_LOCK_TIMEOUT; default 10 000 ms. */
  lockTimeoutMs?: number;
  /** Break a lock file older than this (a crashed writer); default 30 000 ms. */
  lockStaleMs?: number;
  /** Clock for created_at, history and generated ids; default `new Date()`. */
  now?: () => Date;
}

/** What the caller supplies to publish; the registry adds name, version, created_at, files. */
export interface PublishFields {
  /** Explicit id (must match VERSION_ID_PATTERN and be new); default a generated `v<date>-<time>-<hash>`. */
  version?: string;
  /** Default: the version CURRENT names at publish time (null if none). Must exist when given. */
  parent?: string | null;
  config: Record<string, JsonValue>;
  data?: DataProvenance | null;
  training?: TrainingProvenance | null;
  eval?: JsonValue;
}

export interface PublishOptions {
  /** `copy` (default) leaves staging intact; `move` renames it into place (cheap for large weights). */
  mode?: StageMode;
}

export interface VersionEntry {
  version: string;
  /** Null when manifest.json is missing or invalid; `error` says why. */
  manifest: Manifest | null;
  error: string | null;
}

export type PublishListener = (manifest: Manifest) => void;

export class Registry {
  readonly root: string;
  readonly name: string;
  /** `<root>/<name>`. */
  readonly dir: string;
  private readonly requiredFiles: readonly string[];
  private readonly lock: { timeoutMs: number; staleMs: number };
  private readonly now: () => Date;
  private readonly watchers = new Set<CurrentWatcher>();
  private readonly publishListeners = new Set<PublishListener>();
  private closed = false;

  private constructor(root: string, name: string, options: RegistryOptions) {
    this.root = root;
    this.name = name;
    this.dir = join(root, name);
    this.requiredFiles = options.requiredFiles ?? [];
    this.lock = { timeoutMs: options.lockTimeoutMs ?? 10_000, staleMs: options.lockStaleMs ?? 30_000 };
    this.now = options.now ?? (() => new Date());
  }

  /** Opens (creating `<root>/<name>` if needed) the registry of one model. */
  static async open(root: string, name: string, options: RegistryOptions = {}): Promise<Registry> {
    assertModelName(name);
    const registry = new Registry(root, name, options);
    await ioCall('creating the model directory', () => mkdir(registry.dir, { recursive: true }));
    return registry;
  }

  versionDir(version: string): string {
    assertVersionId(version);
    return join(this.dir, version);
  }

  /** Absolute path of one file of a version (consumers load only files the manifest lists). */
  filePath(version: string, path: string): string {
    return join(this.versionDir(version), ...path.split('/'));
  }

  /**
   * Publishes the files of `stagingDir` as a new immutable version and returns its manifest. The files are
   * put into a `.tmp-*` sibling, hashed, fsynced, and renamed into place under the lock; a crash or error
   * leaves no partial version. Never overwrites: an existing or ever-published id is REGISTRY_VERSION_EXISTS.
   */
  async publish(stagingDir: string, fields: PublishFields, options: PublishOptions = {}): Promise<Manifest> {
    this.assertOpen();
    const mode = options.mode ?? 'copy';
    if (fields.version !== undefined) {
      assertVersionId(fields.version);
      await assertUnclaimed(this.dir, fields.version);
    }
    validatePublishInputs(fields);
    const parent = fields.parent === undefined ? await this.current() : fields.parent;
    if (parent !== null) await this.assertExists(parent);
    const files = await ioCall('reading staging', () => checkStaging(stagingDir, this.requiredFiles));
    const temp = tempSibling(join(this.dir, 'version'), 'publish');
    try {
      const entries = await ioCall('staging files', () => fillTempDir(stagingDir, temp, files, mode));
      const createdAt = this.now();
      const manifest: Manifest = {
        format_version: MANIFEST_FORMAT_VERSION,
        name: this.name,
        version: fields.version ?? generateVersionId(createdAt, entries),
        created_at: createdAt.toISOString(),
        parent,
        files: entries,
        config: fields.config,
        data: fields.data ?? null,
        training: fields.training ?? null,
        eval: fields.eval ?? null,
      };
      await ioCall('writing manifest.json', () =>
        writeFileAtomic(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`),
      );
      await withLock(join(this.dir, '.lock'), this.lock, () =>
        claimVersion(this.dir, temp, manifest.version, this.now()),
      );
      this.announce(manifest);
      return manifest;
    } catch (thrown) {
      await abandonTempDir(stagingDir, temp, mode).catch(() => undefined);
      throw thrown;
    }
  }

  /**
   * Copies a version directory from another root (e.g. the bundled release into a deployment's shared
   * volume) keeping its manifest, id and created_at. The source must verify, the copy must hash the same,
   * and the id must be new here. Its parent need not exist in this registry.
   */
  async importVersion(sourceVersionDir: string): Promise<Manifest> {
    this.assertOpen();
    const version = basename(sourceVersionDir);
    assertVersionId(version);
    const expect = { name: this.name, version };
    const source = await ioCall(`verifying ${sourceVersionDir}`, () =>
      verifyVersionDir(sourceVersionDir, expect, this.requiredFiles),
    );
    if (!source.ok || !source.manifest) throw verifyFailed(sourceVersionDir, version, source);
    const manifest = source.manifest;
    await assertUnclaimed(this.dir, version);
    const temp = tempSibling(join(this.dir, 'version'), 'import');
    try {
      const paths = [...manifest.files.map((f) => f.path), MANIFEST_FILE];
      await ioCall('copying the version', () => fillTempDir(sourceVersionDir, temp, paths, 'copy'));
      const copy = await ioCall('verifying the copy', () =>
        verifyVersionDir(temp, expect, this.requiredFiles),
      );
      if (!copy.ok) throw verifyFailed(`the copy of ${sourceVersionDir}`, version, copy);
      await withLock(join(this.dir, '.lock'), this.lock, () =>
        claimVersion(this.dir, temp, version, this.now()),
      );
    } catch (thrown) {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      throw thrown;
    }
    this.announce(manifest);
    return manifest;
  }

  /** Every version directory, oldest first (by created_at, then id); broken manifests are listed too. */
  async list(): Promise<VersionEntry[]> {
    this.assertOpen();
    const dirents = await ioCall('listing versions', () => readdir(this.dir, { withFileTypes: true }));
    const entries: VersionEntry[] = [];
    for (const dirent of dirents) {
      if (!dirent.isDirectory() || !isVersionId(dirent.name)) continue;
      try {
        entries.push({ version: dirent.name, manifest: await this.get(dirent.name), error: null });
      } catch (thrown) {
        entries.push({ version: dirent.name, manifest: null, error: (thrown as Error).message });
      }
    }
    // Broken manifests have no created_at and sort first, by id.
    const key = (e: VersionEntry): string => `${e.manifest?.created_at ?? ''}\0${e.version}`;
    return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /** The parsed manifest of one version (no hashing; use verify for that). */
  async get(version: string): Promise<Manifest> {
    this.assertOpen();
    const dir = this.versionDir(version);
    let text: string;
    try {
      text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    } catch (thrown) {
      if (!isErrno(thrown, 'ENOENT', 'ENOTDIR')) throw ioError(`reading ${version}/manifest.json`, thrown);
      await this.assertExists(version);
      throw new RegistryError('REGISTRY_MANIFEST_INVALID', `${version}/manifest.json is missing`);
    }
    return parseManifest(text, { name: this.name, version });
  }

  /** Hashes every listed file against the manifest; see verify.ts for what counts as a problem. */
  async verify(version: string): Promise<VerifyResult> {
    this.assertOpen();
    await this.assertExists(version);
    return ioCall(`verifying ${version}`, () =>
      verifyVersionDir(this.versionDir(version), { name: this.name, version }, this.requiredFiles),
    );
  }

  /** The version CURRENT names, or null when there is no pointer yet. */
  async current(): Promise<string | null> {
    this.assertOpen();
    return readCurrentFile(this.dir);
  }

  /** The current version's manifest; REGISTRY_NO_CURRENT when there is no pointer. */
  async currentManifest(): Promise<Manifest> {
    const version = await this.current();
    if (version === null)
      throw new RegistryError('REGISTRY_NO_CURRENT', `${this.name} has no CURRENT version`);
    return this.get(version);
  }

  /** Every pointer move, oldest first. */
  async history(): Promise<HistoryEntry[]> {
    this.assertOpen();
    return ioCall('reading history', () => readHistory(join(this.dir, 'history.jsonl')));
  }

  /**
   * Verifies `version` (REGISTRY_VERIFY_FAILED with `details.problems` if it is not servable, CURRENT
   * untouched), then replaces CURRENT atomically and appends the move to history. With `expectFrom`
   * it is a compare-and-swap: CURRENT moves only if it still names that version, else
   * REGISTRY_CURRENT_MOVED and nothing changes (a loop round publishing against its base version
   * loses to a rollback made meanwhile).
   */
  async setCurrent(
    version: string,
    move: PointerMove,
    options: { expectFrom?: string } = {},
  ): Promise<HistoryEntry> {
    this.assertOpen();
    assertMove(move);
    await this.assertServable(version);
    const entry = await withLock(join(this.dir, '.lock'), this.lock, () =>
      this.movePointer(version, 'set', move, options.expectFrom),
    );
    if (entry === null) {
      const now = await this.current().catch(() => null);
      throw new RegistryError(
        'REGISTRY_CURRENT_MOVED',
        `CURRENT of ${this.name} is ${now ?? 'unset'}, not ${options.expectFrom}: it moved meanwhile (a rollback?)`,
        { details: { expected: options.expectFrom, current: now } },
      );
    }
    return entry;
  }

  /** The version `rollback` would move to (history stack, else the current parent); see history.ts. */
  async rollbackTarget(): Promise<string> {
    const current = await this.current();
    if (current === null)
      throw new RegistryError('REGISTRY_NO_CURRENT', `${this.name} has no CURRENT version`);
    return this.previousOf(current);
  }

  /**
   * Moves CURRENT back one step (see history.ts for the rule) after verifying the target. If another
   * writer moved the pointer meanwhile, the target is recomputed from the new state.
   */
  async rollback(move: PointerMove): Promise<HistoryEntry> {
    this.assertOpen();
    assertMove(move);
    for (let attempt = 0; ; attempt++) {
      const current = await this.current();
      if (current === null)
        throw new RegistryError('REGISTRY_NO_CURRENT', `${this.name} has no CURRENT version`);
      const target = await this.previousOf(current);
      await this.assertServable(target);
      const entry = await withLock(join(this.dir, '.lock'), this.lock, () =>
        this.movePointer(target, 'rollback', move, attempt < 5 ? current : undefined),
      );
      if (entry) return entry;
    }
  }

  /** Calls `callback` when CURRENT changes (local moves at once, other processes by polling); returns stop. */
  watch(callback: ChangeCallback, options: WatchOptions = {}): () => void {
    this.assertOpen();
    const watcher = new CurrentWatcher(() => this.current(), callback, options);
    this.watchers.add(watcher);
    return () => {
      watcher.stop();
      this.watchers.delete(watcher);
    };
  }

  /** In-process notification of versions published through this instance; returns unsubscribe. */
  onPublish(listener: PublishListener): () => void {
    this.assertOpen();
    this.publishListeners.add(listener);
    return () => this.publishListeners.delete(listener);
  }

  /** Stops every watcher and listener. Idempotent; other calls afterwards throw REGISTRY_CLOSED. */
  close(): void {
    this.closed = true;
    for (const watcher of this.watchers) watcher.stop();
    this.watchers.clear();
    this.publishListeners.clear();
  }

  /** The version exists once claimed, so a failing listener must not fail the publish: it becomes a warning. */
  private announce(manifest: Manifest): void {
    for (const listener of this.publishListeners) {
      try {
        listener(manifest);
      } catch (thrown) {
        process.emitWarning(
          `registry publish listener failed: ${(thrown as Error).message}`,
          'RegistryWarning',
        );
      }
    }
  }

  /**
   * Under the lock: writes CURRENT and appends history. With `expectFrom`, returns null (moving nothing)
   * when CURRENT no longer names it.
   */
  private async movePointer(
    to: string,
    action: PointerAction,
    move: PointerMove,
    expectFrom: string | undefined,
  ): Promise<HistoryEntry | null> {
    const from = await this.current().catch((thrown: unknown) => {
      if (thrown instanceof RegistryError && thrown.code === 'REGISTRY_CURRENT_INVALID') return null;
      throw thrown;
    });
    if (expectFrom !== undefined && from !== expectFrom) return null;
    const entry: HistoryEntry = {
      at: this.now().toISOString(),
      action,
      from,
      to,
      reason: move.reason,
      actor: move.actor,
      host: hostname(),
      pid: process.pid,
    };
    await writePointer(this.dir, entry);
    for (const watcher of this.watchers) watcher.notifyLocal(to);
    return entry;
  }

  private async previousOf(current: string): Promise<string> {
    const fromHistory = previousFromHistory(await this.history(), current);
    if (fromHistory !== null) return fromHistory;
    const parent = (await this.get(current)).parent;
    if (parent !== null && (await this.exists(parent))) return parent;
    throw new RegistryError('REGISTRY_NO_PREVIOUS', `no version to roll back to from ${current}`);
  }

  private async assertServable(version: string): Promise<void> {
    const result = await this.verify(version);
    if (!result.ok) throw verifyFailed(`${this.name}/${version}`, version, result);
  }

  private async exists(version: string): Promise<boolean> {
    assertVersionId(version);
    return versionDirExists(this.dir, version);
  }

  private async assertExists(version: string): Promise<void> {
    if (!(await this.exists(version))) {
      throw new RegistryError('REGISTRY_VERSION_NOT_FOUND', `${this.name}/${version} does not exist`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RegistryError('REGISTRY_CLOSED', `the registry of ${this.name} is closed`);
  }
}
