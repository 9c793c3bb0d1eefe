/**
 * Noticing CURRENT changes. Local moves (this Registry instance) are delivered at once; moves by other
 * processes or replicas are found by polling. Polling reads the small CURRENT file each tick instead of
 * trusting fs.watch or mtime: inotify does not see writes made by other NFS clients, mtime has coarse
 * granularity on some volumes, and an open+read revalidates NFS's attribute cache (close-to-open).
 */
export interface CurrentChange {
  /** The version CURRENT now names (null if the pointer was removed). */
  version: string | null;
  /** What this watcher saw before. */
  previous: string | null;
  /** `local`: moved through this Registry instance; `poll`: seen on disk (another process or replica). */
  source: 'local' | 'poll';
}

export interface WatchOptions {
  /** Polling period; default 1000 ms. */
  pollMs?: number;
  /**
   * The version the caller already acts on (e.g. the one the engine loaded). The first poll compares
   * against it, so a move between loading and watching is not missed. Default: CURRENT at watch time.
   */
  since?: string | null;
  /** Read failures and callback errors land here; the watcher keeps going. */
  onError?: (error: unknown) => void;
}

export type ChangeCallback = (change: CurrentChange) => void | Promise<void>;

/** One watcher: its own last-seen value and poll timer (the timer does not keep the process alive). */
export class CurrentWatcher {
  private last: string | null | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Bumped by every local delivery; a poll whose read straddles one is stale and discarded. */
  private localMoves = 0;

  private readonly readCurrent: () => Promise<string | null>;
  private readonly callback: ChangeCallback;
  private readonly options: WatchOptions;
  constructor(readCurrent: () => Promise<string | null>, callback: ChangeCallback, options: WatchOptions) {
    this.readCurrent = readCurrent;
    this.callback = callback;
    this.options = options;
    this.last = options.since;
    if (this.last === undefined) {
      // Baseline first, without firing; later polls compare against it.
      void this.poll(false).finally(() => this.schedule());
    } else {
      this.schedule();
    }
  }

  /** A move made through the owning Registry instance. */
  notifyLocal(version: string | null): void {
    this.localMoves++;
    this.deliver(version, 'local');
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll(true).finally(() => this.schedule());
    }, this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  private async poll(fire: boolean): Promise<void> {
    const movesBefore = this.localMoves;
    let version: string | null;
    try {
      version = await this.readCurrent();
    } catch (thrown) {
      this.report(thrown);
      return;
    }
    // The read may predate a local move delivered meanwhile; reporting it would flip back to the old value.
    if (this.localMoves !== movesBefore) return;
    if (!fire && this.last === undefined) this.last = version;
    else this.deliver(version, 'poll');
  }

  private deliver(version: string | null, source: CurrentChange['source']): void {
    if (this.stopped || version === this.last) return;
    const previous = this.last ?? null;
    this.last = version;
    try {
      const result = this.callback({ version, previous, source });
      if (result instanceof Promise) result.catch((thrown: unknown) => this.report(thrown));
    } catch (thrown) {
      this.report(thrown);
    }
  }

  private report(error: unknown): void {
    if (this.options.onError) this.options.onError(error);
  }
}
