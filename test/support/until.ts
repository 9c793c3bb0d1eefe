/**
 * Polling with a deadline for tests. A condition that never comes true fails the test with what it
 * waited for (and, when given, the state it saw last) instead of hanging until CI's own limit.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** Give up after this long (default 60 s: generous for a loaded 2-core machine, short of the per-test timeout). */
  timeoutMs?: number;
  /** Pause between two checks (default 10 ms). */
  everyMs?: number;
  /** Describes the state on timeout, e.g. `() => \`load ${pool.load}\``. */
  state?: () => string;
}

export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 60_000, everyMs = 10, state }: UntilOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) {
      const seen = state ? ` (last seen: ${state()})` : '';
      throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}${seen}`);
    }
    await sleep(everyMs);
  }
}
