/**
 * bench:synth — throughput of `chexpo synth` on this machine: 1 worker vs all cores side by side on the
 * same cases, then the projected time for 10,000 cases. Usage: npm run bench:synth [-- --cases N --size PX]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { synthesize } from '../src/data/synth/index.ts';
import { machine } from './bench/stats.ts';

const { values } = parseArgs({
  options: { cases: { type: 'string', default: '1000' }, size: { type: 'string', default: '256' } },
});
const cases = Number(values.cases);
const size = Number(values.size);

async function timeRun(workers: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-bench-synth-'));
  const started = performance.now();
  await synthesize({ cases, seed: 7, outDir: dir, size, formats: ['png16'], workers });
  const ms = performance.now() - started;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

const cores = availableParallelism();
console.log(`machine: ${machine()}`);
console.log(`cases: ${cases} at ${size}px, png16 + labels + instruction samples\n`);
const one = await timeRun(1);
const all = await timeRun(cores);
const row = (label: string, ms: number): string =>
  `${label.padEnd(12)} ${(ms / 1000).toFixed(1).padStart(7)} s  ${(ms / cases).toFixed(2).padStart(7)} ms/case  ${((10000 * ms) / cases / 60000).toFixed(2).padStart(6)} min per 10k`;
console.log(row('1 worker', one));
console.log(row(`${cores} workers`, all));
console.log(`speed-up ${(one / all).toFixed(2)}x`);
