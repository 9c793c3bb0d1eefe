/**
 * Why RSS climbs across hot swaps on glibc, and the allocator that stops it. Every swap starts fresh
 * worker threads and ends the old ones (session.release() leaks, so a worker's sessions go with its
 * thread). glibc's malloc gives each thread an arena; KV-cache-sized buffers (MiBs, a new one every
 * decode step) come from it once glibc has raised its adaptive mmap threshold, and an ended thread's
 * arena keeps its fragmented pages for whichever thread picks it up next, so each generation of
 * threads adds more. `npm run bench:swap -- --allocators glibc,trim,jemalloc` (docs/benchmarks.md):
 * from swap 5 to swap 50 RSS grew 1.4–1.8× with glibc's defaults and 1.8–1.9× with the threshold
 * pinned (MALLOC_TRIM_THRESHOLD_=1048576: lower at first, then growing as fast). jemalloc (Debian's
 * libjemalloc2, preloaded) keeps a fixed set of arenas shared by all threads and gives freed pages
 * back to the system: RSS stayed level from swap 5 to swap 50. The images preload it with
 * JEMALLOC_CONF. The dynamic loader reads LD_PRELOAD, and glibc its variables, only at process start,
 * so the engine cannot choose its allocator itself: it logs a warning at start on glibc
 * (allocatorWarning).
 */
import { readFileSync } from 'node:fs';

export const ALLOCATOR_ENV = ['MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_'] as const;

/**
 * MALLOC_CONF of the images: freed pages go back to the system at once (no dirty or muzzy decay; the
 * background thread purges whatever else is left), so RSS follows what the workers hold rather than
 * what they held in the last seconds. In bench:swap (docs/benchmarks.md) this kept the median RSS
 * between swaps within −3.7 … +2.3% of swap 5's up to swap 50 and ~12% lower than 1 s decay, which
 * wandered −10 … +0% (and jemalloc's defaults, 10 s, −14 … +0%); no throughput cost could be told
 * apart from the machine's load.
 */
export const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0';

/** Where the images link Debian's libjemalloc2 (the same path on every architecture). */
export const IMAGE_JEMALLOC = '/usr/local/lib/libjemalloc.so.2';

export type MallocKind = 'jemalloc' | 'glibc' | 'unknown';

/** The malloc this process runs on: jemalloc when a libjemalloc is mapped, else glibc's if on glibc. */
export function mallocInUse(maps: string | undefined = readMaps()): MallocKind {
  if (maps !== undefined && /\/libjemalloc[^/\s]*\.so/.test(maps)) return 'jemalloc';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'unknown';
}

function readMaps(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return undefined;
  }
}

/** A warning to log at start, or undefined when the process runs on jemalloc or not on glibc. */
export function allocatorWarning(
  env: NodeJS.ProcessEnv = process.env,
  malloc: MallocKind = mallocInUse(),
): string | undefined {
  if (process.platform !== 'linux' || malloc !== 'glibc') return undefined;
  const tuned = ALLOCATOR_ENV.filter((name) => env[name] !== undefined);
  return (
    `glibc malloc${tuned.length > 0 ? ` (${tuned.join(', ')} set)` : ' with default thresholds'}: RSS grows ` +
    'with every model swap; preload jemalloc as the images do (LD_PRELOAD=<path of libjemalloc.so.2>, ' +
    `MALLOC_CONF=${JEMALLOC_CONF}; see src/engine/allocator.ts)`
  );
}
