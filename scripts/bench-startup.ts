/**
 * bench:startup — how long `chexpo serve` takes to start, per Node.js binary and loader: from
 * spawning `node bin/chexpo.js serve` (the image's command) to the first "Server listening" log
 * line, and to the first 200 from /v2/health/ready (the bundled release loaded and warmed up in its
 * workers). Two modes per binary that strips types: `strip` (Node loads the sources as written, what
 * production runs) and `tsx` (the same binary with --no-experimental-strip-types, so bin/chexpo.js
 * and the workers register tsx's on-the-fly transform: what `npm start` ran before); a binary without
 * type stripping (Node 20) runs `tsx` only. Runs alternate between the modes so a busy machine slows
 * them alike; prints each run and the medians side by side. The server listens on 127.0.0.1, port 0,
 * serves a copy of the bundled registry and writes into a temp directory.
 * Usage: npm run bench:startup [-- --runs 5 --node /path/to/node22 --node /path/to/node20]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, padRow, quantile } from './bench/stats.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, node: { type: 'string', multiple: true } },
});
const binaries = values.node?.length ? values.node : [process.execPath];
const runs = Number(values.runs);
const REPO = resolve(import.meta.dirname, '..');

/** What a binary prints for a one-line script. */
async function ask(node: string, script: string): Promise<string> {
  const child = spawn(node, ['-p', script]);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  await new Promise((r) => child.once('exit', r));
  return out.trim();
}

interface Mode {
  label: string;
  node: string;
  args: string[];
}
const modes: Mode[] = [];
for (const node of binaries) {
  const version = await ask(node, 'process.version');
  const strips = (await ask(node, 'String(process.features.typescript ?? false)')) !== 'false';
  if (strips) modes.push({ label: `${version} strip`, node, args: [] });
  modes.push({ label: `${version} tsx`, node, args: strips ? ['--no-experimental-strip-types'] : [] });
}

interface Timing {
  listening: number;
  ready: number;
}

async function startOnce(mode: Mode, dir: string): Promise<Timing> {
  const started = performance.now();
  const child: ChildProcess = spawn(mode.node, [...mode.args, 'bin/chexpo.js', 'serve', '--port', '0'], {
    cwd: REPO,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHEXPO_'))),
      CHEXPO_AUTH_DISABLED: '1',
      CHEXPO_HOST: '127.0.0.1',
      CHEXPO_LOOP_ENABLED: '0',
      CHEXPO_WORKERS: '1',
      CHEXPO_MODEL_DIR: join(dir, 'models'),
      CHEXPO_STORE_URI: join(dir, 'store'),
      CHEXPO_AUDIT_LOG: join(dir, 'audit.jsonl'),
      CHEXPO_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    const base = await new Promise<string>((done, fail) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) done(match[1]);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => fail(new Error(`exited ${code}:\n${output}`)));
    });
    const listening = performance.now() - started;
    for (let polls = 0; polls < 6000; polls++) {
      const status = await fetch(`${base}/v2/health/ready`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return { listening, ready: performance.now() - started };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`not ready:\n${output}`);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const results = new Map<Mode, Timing[]>(modes.map((m) => [m, []]));
for (let run = 0; run < runs; run++) {
  for (const mode of modes) {
    const dir = await mkdtemp(join(tmpdir(), 'chexpo-startup-'));
    try {
      await cp(join(REPO, 'models'), join(dir, 'models'), { recursive: true });
      const t = await startOnce(mode, dir);
      results.get(mode)!.push(t);
      console.log(
        `run ${run + 1} ${mode.label}: listening ${t.listening.toFixed(0)} ms, ready ${t.ready.toFixed(0)} ms`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
console.log(`\nmedians over ${runs} runs (ms)`);
const row = (cells: string[]) => padRow(cells, [20, 10, 8], { sep: ' ', left: 1 });
console.log(row(['node, loader', 'listening', 'ready']));
for (const [mode, timings] of results) {
  const at = (f: (t: Timing) => number) => fmt(quantile(timings.map(f), 0.5), 0);
  console.log(row([mode.label, at((t) => t.listening), at((t) => t.ready)]));
}
for (const node of binaries) {
  const [strip, tsx] = ['strip', 'tsx'].map((l) =>
    [...results].find(([m]) => m.node === node && m.label.endsWith(` ${l}`)),
  );
  if (!strip || !tsx) continue;
  const gain = (f: (t: Timing) => number) => quantile(tsx[1].map(f), 0.5) - quantile(strip[1].map(f), 0.5);
  console.log(
    `${strip[0].label.split(' ')[0]}: type stripping starts ${gain((t) => t.listening).toFixed(0)} ms sooner to listening, ` +
      `${gain((t) => t.ready).toFixed(0)} ms sooner to ready than tsx`,
  );
}
