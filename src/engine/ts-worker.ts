/**
 * Starting a worker thread whose entry is a .ts module. Where Node strips types itself (as in
 * production, bin/chexpo.js) the worker loads the module as it is. Otherwise a worker's entry is
 * resolved before any `--import` hook of the worker runs, so a .ts entry fails; then this bootstrap
 * registers tsx (as bin/chexpo.js does) and imports the module.
 */
import { Worker } from 'node:worker_threads';

const TSX_API = import.meta.resolve('tsx/esm/api');

export function startTsWorker(moduleUrl: URL, workerData: unknown): Worker {
  if (process.features.typescript) return new Worker(moduleUrl, { workerData });
  const bootstrap = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
