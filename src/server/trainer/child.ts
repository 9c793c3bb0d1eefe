/**
 * One `chexpo loop run` in its own process. Training never shares the server's process, heap or
 * onnxruntime threads, so a crash, an OOM kill or a hang of the run leaves serving untouched.
 *
 * The child runs `process.execPath <script> loop run …` (script: bin/chexpo.js) with
 * `--threads <n>` capping its onnxruntime threads, the same cap in OMP_NUM_THREADS for any native
 * pool that reads it, and a lower scheduling priority (os.setPriority, nice 10) where the platform
 * allows it. Its stdout and stderr go to `<workDir>/<runId>.log`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { LIFELINE_ENV } from '../../loop/parent-watch.ts';

export type LoopTrigger = 'manual' | 'schedule' | 'hard_examples' | 'admin';

export interface LoopChildSpec {
  /** The CLI entry (bin/chexpo.js), or a stub script in tests. */
  script: string;
  registryRoot: string;
  modelName: string;
  storeUri: string;
  /** Labelled data set (`--data`); absent lets the loop synthesise its own. */
  dataDir?: string;
  workDir: string;
  runId: string;
  trigger: LoopTrigger;
  threads: number;
  /** Extra environment for the child (on top of the allow-listed part of the server's: childEnvironment). */
  env?: Record<string, string>;
  /** Working directory of the child (the app root, so its own loaders resolve); default the server's. */
  cwd?: string;
  /** Nice increment applied to the child; default 10. */
  niceness?: number;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Spawning itself failed (e.g. the script is missing). */
  spawnError?: string;
}

export interface LoopChild {
  readonly pid: number | undefined;
  readonly logPath: string;
  readonly exited: Promise<ChildExit>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs: number): Promise<ChildExit>;
}

export function loopRunArgs(spec: LoopChildSpec): string[] {
  return [
    spec.script,
    'loop',
    'run',
    '--registry',
    spec.registryRoot,
    '--name',
    spec.modelName,
    '--store',
    spec.storeUri,
    ...(spec.dataDir ? ['--data', spec.dataDir] : []),
    '--work',
    spec.workDir,
    '--run-id',
    spec.runId,
    '--trigger',
    spec.trigger,
    '--threads',
    String(spec.threads),
  ];
}

/**
 * Variables a `chexpo loop run` child may inherit from the server, by exact name. Everything else
 * (CHEXPO_API_KEYS above all, any other secret a deployment puts in the server's environment) stays
 * with the server.
 */
export const CHILD_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'NODE_ENV',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'MALLOC_TRIM_THRESHOLD_',
  'MALLOC_ARENA_MAX',
  'LD_PRELOAD',
  'MALLOC_CONF',
  'LD_LIBRARY_PATH',
  'CUDA_VISIBLE_DEVICES',
  'NVIDIA_VISIBLE_DEVICES',
  'CHEXPO_ID_SALT',
];

/**
 * Prefixes a child may inherit: locale settings, and the object-storage credentials LanceDB reads
 * when the store is an `s3://`, `gs://` or `az://` URI (the child opens the same store).
 */
export const CHILD_ENV_PREFIXES: readonly string[] = ['LC_', 'AWS_', 'GOOGLE_', 'AZURE_'];

/** The child's environment: the allow-listed part of `parent`, then the spec's own variables. */
export function childEnvironment(
  parent: NodeJS.ProcessEnv,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (CHILD_ENV_NAMES.includes(name) || CHILD_ENV_PREFIXES.some((p) => name.startsWith(p)))
      env[name] = value;
  }
  return { ...env, ...extra };
}

export function spawnLoopRun(spec: LoopChildSpec): LoopChild {
  mkdirSync(spec.workDir, { recursive: true });
  const logPath = join(spec.workDir, `${spec.runId}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, loopRunArgs(spec), {
    env: childEnvironment(process.env, {
      OMP_NUM_THREADS: String(spec.threads),
      [LIFELINE_ENV]: '1',
      ...spec.env,
    }),
    cwd: spec.cwd,
    // The IPC channel is the child's lifeline: when this process dies, however abruptly, it closes
    // and the child stops (src/loop/parent-watch.ts). It carries no messages.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.channel?.unref();
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  if (child.pid !== undefined) {
    try {
      setPriority(child.pid, spec.niceness ?? 10);
    } catch {
      // Not permitted here (some containers): the thread cap still protects serving.
    }
  }
  const exited = new Promise<ChildExit>((resolve) => {
    let settled = false;
    const finish = (exit: ChildExit): void => {
      if (settled) return;
      settled = true;
      log.end(() => resolve(exit));
    };
    child.once('error', (error) => {
      if (child.pid === undefined) finish({ code: null, signal: null, spawnError: error.message });
    });
    child.once('close', (code, signal) => finish({ code, signal }));
  });
  return {
    pid: child.pid,
    logPath,
    exited,
    async stop(graceMs: number): Promise<ChildExit> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        timer.unref();
        const exit = await exited;
        clearTimeout(timer);
        return exit;
      }
      return exited;
    },
  };
}
