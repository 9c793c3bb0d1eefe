/**
 * Why RSS climbs across hot swaps on glibc, and the setting that stops it. Every swap starts fresh
 * worker threads and ends the old ones (session.release() leaks). glibc's malloc raises its mmap
 * threshold after the first large free, so KV-cache-sized buffers then come from per-thread arenas;
 * an ended thread's arena keeps its fragmented pages, and each new generation of threads adds more
 * (measured with `npm run bench:swap`: 2.3× the pre-swap RSS after 20 swaps, still climbing). Setting
 * MALLOC_TRIM_THRESHOLD_ (or MALLOC_MMAP_THRESHOLD_) at process start pins the mmap threshold, so those
 * buffers are mapped and unmapped and freed arena tops are trimmed: RSS levels off after ~10 swaps
 * (1.46×, flat within ±3% over the next ten). glibc reads it only at start, so it belongs in the
 * environment of `chexpo serve` (container image, npm start).
 */
export const ALLOCATOR_ENV = ['MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_'] as const;

/** A warning to log at start, or undefined when the process is not on glibc or already tuned. */
export function allocatorWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform !== 'linux' || ALLOCATOR_ENV.some((name) => env[name] !== undefined)) return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  if (!header?.glibcVersionRuntime) return undefined;
  return (
    'glibc malloc with default thresholds: RSS grows with every model swap; start the server with ' +
    'MALLOC_TRIM_THRESHOLD_=1048576 in its environment (see src/engine/allocator.ts)'
  );
}
