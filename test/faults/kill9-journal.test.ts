/**
 * Fault (issue 13, defect 5): `kill -9` under load lost 46 of 1,690 flagged hard examples that
 * were still in the in-memory write queue. Now every flagged row is journaled (fdatasync) before
 * its answer returns and replayed on start. On the real process (`node bin/chexpo.js serve`,
 * bundled model, every answer flagged): SIGKILL while clients are answered, restart, and every
 * answer that came back flagged is a row in the store, exactly once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashRequestId } from '../../src/server/hard-example-logger.ts';
import { LanceStore } from '../../src/store/index.ts';
import { testPng } from '../engine/helpers.ts';
import { until } from '../support/until.ts';
import { BUNDLED_VERSION, MODEL_NAME, type ReleaseRegistry, releaseRegistry } from './release-registry.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FLAGGED_BEFORE_KILL = 40;
const CLIENTS = 4;

let reg: ReleaseRegistry;
const started: ChildProcess[] = [];
before(async () => {
  reg = await releaseRegistry();
});
after(async () => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await reg.cleanup();
});

interface Server {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  let output = '';
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('CHEXPO_')),
  );
  const child = spawn(process.execPath, ['bin/chexpo.js', 'serve', '--port', '0'], {
    cwd: REPO,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await until(
    () => /Server listening at http:\/\/127\.0\.0\.1:\d+/.test(output) || child.exitCode !== null,
    'the server to listen',
    {
      state: () => output,
    },
  );
  const base = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  assert.ok(base, output);
  await until(
    async () =>
      (await fetch(`${base}/v2/health/ready`).then(
        (r) => r.status,
        () => 0,
      )) === 200,
    'the server to be ready',
    { everyMs: 100, timeoutMs: 100_000, state: () => output },
  );
  return { child, base, output: () => output, exited };
}

test('kill -9 under load loses no flagged answer, and the restart writes none twice', {
  timeout: 5 * 60_000,
}, async () => {
  const env = {
    NODE_ENV: 'test',
    CHEXPO_AUTH_DISABLED: '1',
    CHEXPO_MODEL_DIR: reg.registryRoot,
    CHEXPO_MODEL_NAME: MODEL_NAME,
    CHEXPO_STORE_URI: join(reg.root, 'store'),
    CHEXPO_JOURNAL_DIR: join(reg.root, 'journal'),
    CHEXPO_AUDIT_LOG: join(reg.root, 'audit.jsonl'),
    CHEXPO_LOOP_ENABLED: '0',
    CHEXPO_RISK_THRESHOLD: '0',
    CHEXPO_WORKERS: '1',
    CHEXPO_RATE_LIMIT_MAX: '0',
    CHEXPO_RATE_LIMIT_ADDRESS_MAX: '0',
    CHEXPO_MAX_EVENT_LOOP_DELAY_MS: '0',
    CHEXPO_LOG_LEVEL: 'info',
  };
  const first = await startServer(env);
  const flagged: string[] = [];
  let killed = false;
  const client = async (c: number): Promise<void> => {
    for (let i = 0; i < 500 && !killed; i++) {
      const id = `k9-${c}-${i}`;
      const res = await fetch(`${first.base}/v1/answer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          image: Buffer.from(testPng(c * 1000 + i, 256)).toString('base64'),
          question: 'Is there a pleural effusion?',
          request_id: id,
        }),
      }).catch(() => null);
      if (!res) return; // the server is gone
      const body = (await res.json().catch(() => ({}))) as { flagged?: boolean };
      if (res.status === 200 && body.flagged) flagged.push(id);
      if (flagged.length >= FLAGGED_BEFORE_KILL && !killed) {
        // Right after a flagged answer: rows of the last second are still in the write queue.
        killed = true;
        first.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  assert.ok(killed, `fewer than ${FLAGGED_BEFORE_KILL} flagged answers:\n${first.output()}`);
  await first.exited;

  // Restart: the journal is replayed before the model serves; a clean stop flushes the queue.
  const second = await startServer(env);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.output());

  const config = JSON.parse(
    await readFile(join(reg.registryRoot, MODEL_NAME, BUNDLED_VERSION, 'config.json'), 'utf8'),
  );
  const store = await LanceStore.open({ uri: env.CHEXPO_STORE_URI, embeddingDim: config.embeddingDim });
  const rows = await store.listHardExamples();
  await store.close();
  const count = new Map<string | null, number>();
  for (const row of rows) count.set(row.request_id_hash, (count.get(row.request_id_hash) ?? 0) + 1);
  const missing = flagged.filter((id) => !count.has(hashRequestId('auth-disabled', id)));
  assert.deepEqual(missing, [], `${missing.length} of ${flagged.length} flagged answers lost`);
  assert.deepEqual(
    [...count.entries()].filter(([, n]) => n > 1),
    [],
    'no row written twice',
  );
  assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
});
