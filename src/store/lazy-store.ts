/**
 * Opens a store on first use, and again after a failed open, so the server can start (and answer)
 * while the store is unreachable: the write queue's retries double as reconnection attempts.
 *
 *   const lazy = new LazyStore(() => LanceStore.open(options));
 *   const queue = new WriteQueue({ write: async (rows) => (await lazy.get()).addHardExamples(rows) });
 */
import { StoreError } from './errors.ts';

export class LazyStore<S extends { close(): Promise<void> }> {
  private readonly open: () => Promise<S>;
  private opening: Promise<S> | null = null;
  private store: S | null = null;
  private closed = false;

  constructor(open: () => Promise<S>) {
    this.open = open;
  }

  /** The open store; concurrent callers share one open attempt; a failed attempt is retried by the next call. */
  get(): Promise<S> {
    if (this.closed) return Promise.reject(new StoreError('STORE_CLOSED', 'the lazy store is closed'));
    if (this.store) return Promise.resolve(this.store);
    if (!this.opening) {
      this.opening = this.open().then(
        (store) => {
          this.opening = null;
          if (this.closed) {
            void store.close();
            throw new StoreError('STORE_CLOSED', 'the lazy store was closed while opening');
          }
          this.store = store;
          return store;
        },
        (error: unknown) => {
          this.opening = null;
          throw error;
        },
      );
    }
    return this.opening;
  }

  /** The store if it is open, without trying to open it. */
  current(): S | null {
    return this.store;
  }

  /** Closes the store if it was opened. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const store = this.store;
    this.store = null;
    await store?.close();
  }
}
