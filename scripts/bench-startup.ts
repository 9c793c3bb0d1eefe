/**
 * bench:startup — how long `chexpo serve` takes to start, per Node.js binary: from spawning
 * `node bin/chexpo.js serve` (the image's command; tsx registers in-process) to the first
 * "Server listening" log line, and to the first 200 from /v2/health/ready (the bundled release
 * loaded and warmed up in its workers). Runs alternate between the binaries so a busy machine
 * slows them alike; prints each run and the medians. The server listens on 127.0.0.1, port 0,
 * serves a copy of the bundled registry and writes into a temp directory.
 * Usage: npm run bench:startup [-- --runs 5 --node /path/to/node22 --node /path/to/node20]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, node: { type: 'string', multiple: true } },
});
const binaries = values.node?.length ? values.node : [process.execPath];
const runs = Number(values.runs);
const REPO = resolve(import.meta.dirname, '..');

interface Timing {
  listening: number;
  ready: number;
}

async function startOnce(node: string, dir: string): Promise<Timing> {
  const started = performance.now();
  const child: ChildProcess = spawn(node, ['bin/chexpo.js', 'serve', '--port', '0'], {
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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = new Map<string, Timing[]>(binaries.map((b) => [b, []]));
for (let run = 0; run < runs; run++) {
  for (const node of binaries) {
    const dir = await mkdtemp(join(tmpdir(), 'chexpo-startup-'));
    try {
      await cp(join(REPO, 'models'), join(dir, 'models'), { recursive: true });
      const t = await startOnce(node, dir);
      results.get(node)!.push(t);
      console.log(
        `run ${run + 1} ${node}: listening ${t.listening.toFixed(0)} ms, ready ${t.ready.toFixed(0)} ms`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
for (const [node, timings] of results) {
  const version = await new Promise<string>((done) => {
    const child = spawn(node, ['-v']);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.once('exit', () => done(out.trim()));
  });
  console.log(
    `${version} (${node}): median listening ${median(timings.map((t) => t.listening)).toFixed(0)} ms, ` +
      `ready ${median(timings.map((t) => t.ready)).toFixed(0)} ms over ${timings.length} runs`,
  );
}
