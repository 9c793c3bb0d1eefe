/**
 * Shared set-up for the loop's end-to-end round tests: a phantom data set, a registry seeded with
 * the bundled model, a real LanceDB store, and `run()` for one round with small settings. Each test
 * file builds its own (the files run in parallel and each must stay inside the per-file timeout).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthPool } from '../../scripts/demo/harness.ts';
import { resolveLoopConfig } from '../../src/loop/config.ts';
import { runLoop } from '../../src/loop/run.ts';
import { BUNDLED_MODELS_ROOT, CHEXPO_VERSION_FILES, Registry } from '../../src/registry/index.ts';
import { LanceStore } from '../../src/store/index.ts';

export const NAME = 'chexpo-tiny';

export const lenientGate = {
  minPrimaryGain: -1,
  safetyMargins: { hallucination: 1, omission: 1, ece: 1, perFindingAccuracy: 1, adversarialYesRatio: 1 },
};
export const small = {
  threads: 1,
  mining: { limit: 80 },
  expansion: { k: 4 },
  balance: { budgetFraction: 0.5 },
  dpo: { epochs: 1, batchSize: 8 },
  calibration: { limit: 40 },
  eval: { limit: 40, resamples: 50 },
};

/** A real round (DPO, evaluation) takes minutes on a loaded 2-core machine. */
export const ROUND = { timeout: 10 * 60_000 };

export interface RoundFixture {
  root: string;
  dataDir: string;
  registryRoot: string;
  store: LanceStore;
  /** Opens the registry at `registryRoot`, or at another root. */
  openRegistry(registryRoot?: string): Promise<Registry>;
  current(): Promise<{ current: string | null; versions: number }>;
  run(
    id: string,
    partial: object,
    extra?: { registryRoot?: string; base?: string; registerRejected?: boolean },
  ): ReturnType<typeof runLoop>;
  close(): Promise<void>;
}

/** A registry at `root` holding the given bundled versions, with `current` as CURRENT. */
export async function seededRegistry(root: string, versions: string[], current: string): Promise<Registry> {
  const registry = await Registry.open(root, NAME, { requiredFiles: CHEXPO_VERSION_FILES });
  for (const v of versions) await registry.importVersion(join(BUNDLED_MODELS_ROOT, NAME, v));
  await registry.setCurrent(current, { reason: 'test', actor: 'test' });
  return registry;
}

export async function roundFixture(): Promise<RoundFixture> {
  const root = await mkdtemp(join(tmpdir(), 'chexpo-loop-'));
  const dataDir = join(root, 'data');
  await synthPool(dataDir);
  const registryRoot = join(root, 'registry');
  (await seededRegistry(registryRoot, ['v0001'], 'v0001')).close();
  const store = await LanceStore.open({ uri: join(root, 'store'), embeddingDim: 128 });
  const openRegistry = (at = registryRoot) =>
    Registry.open(at, NAME, { requiredFiles: CHEXPO_VERSION_FILES });
  return {
    root,
    dataDir,
    registryRoot,
    store,
    openRegistry,
    async current() {
      const registry = await openRegistry();
      try {
        return { current: await registry.current(), versions: (await registry.list()).length };
      } finally {
        registry.close();
      }
    },
    run(id, partial, extra = {}) {
      return runLoop({
        registryRoot: extra.registryRoot ?? registryRoot,
        ...(extra.base ? { base: extra.base } : {}),
        ...(extra.registerRejected ? { registerRejected: true } : {}),
        name: NAME,
        store,
        dataDir,
        runId: id,
        trigger: 'manual',
        config: resolveLoopConfig(partial),
        workDir: join(root, 'runs'),
        publish: true,
        log: () => {},
      });
    },
    async close() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
