/**
 * Permission faults (chmod a store read-only) do not bind root, and CI and the development machines
 * run tests as root. A test file that injects such a fault calls `rerunUnprivileged(import.meta.url)`
 * first: as root it registers one test that re-runs the file under `node --test` as an unprivileged
 * uid (65534, "nobody") and passes only if that run passes; otherwise it returns false and the file
 * registers its tests as usual.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const NOBODY = 65534;

export function rerunUnprivileged(fileUrl: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const file = fileURLToPath(fileUrl);
  test(`re-run as uid ${NOBODY}, because file permissions do not bind root`, async () => {
    // A home and temp directory the unprivileged run can write (tsx keeps its cache under TMPDIR).
    const home = mkdtempSync(join(tmpdir(), 'chexpo-nobody-'));
    chmodSync(home, 0o777);
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...withoutTestContext(process.env), HOME: home, TMPDIR: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      if (code !== 0) throw new Error(`the unprivileged run failed (exit ${code}):\n${output}`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
  return true;
}

/** The runner marks its children with NODE_TEST_CONTEXT; a nested `node --test` must report on its own. */
function withoutTestContext(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _, ...rest } = env;
  return rest;
}
