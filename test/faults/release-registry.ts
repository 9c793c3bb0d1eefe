/** Fault-test fixtures: a temp registry seeded with the bundled chexpo-tiny release, and variants of it. */
import { chmod, cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_MODELS_ROOT, Registry } from '../../src/registry/index.ts';

export const MODEL_NAME = 'chexpo-tiny';
export const BUNDLED_VERSION = 'v0001';
const BUNDLED_DIR = join(BUNDLED_MODELS_ROOT, MODEL_NAME, BUNDLED_VERSION);

export interface ReleaseRegistry {
  /** Temp directory holding `models/` (the registry root) and anything else a test puts there. */
  root: string;
  registryRoot: string;
  registry: Registry;
  /** Publishes a copy of the release (not CURRENT) after `mutate` edits its staging directory. */
  publishVariant(mutate?: (stagingDir: string) => Promise<void>): Promise<string>;
  cleanup(): Promise<void>;
}

/** A registry whose CURRENT is a copy of the bundled release (as the Kubernetes seed container does). */
export async function releaseRegistry(): Promise<ReleaseRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'chexpo-faults-'));
  const registryRoot = join(root, 'models');
  const registry = await Registry.open(registryRoot, MODEL_NAME);
  await registry.importVersion(BUNDLED_DIR);
  await registry.setCurrent(BUNDLED_VERSION, { reason: 'seed', actor: 'test' });
  let n = 0;
  return {
    root,
    registryRoot,
    registry,
    async publishVariant(mutate) {
      const staging = join(root, `staging-${n++}`);
      await cp(BUNDLED_DIR, staging, { recursive: true, filter: (src) => !src.endsWith('manifest.json') });
      await mutate?.(staging);
      const manifest = await registry.publish(staging, { config: { variant: n } }, { mode: 'move' });
      return manifest.version;
    },
    async cleanup() {
      registry.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** chmod of a whole tree: directories get `dirMode`, files `fileMode`. */
export async function chmodTree(dir: string, dirMode: number, fileMode: number): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    await chmod(path, entry.isDirectory() ? dirMode : fileMode);
  }
  if ((await stat(dir)).isDirectory()) await chmod(dir, dirMode);
}
