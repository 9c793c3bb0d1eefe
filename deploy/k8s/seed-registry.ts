/**
 * Seeds a deployment's shared model registry from the image's bundled release (the init container of
 * deployment.yaml runs it; kustomize ships it as the chexpo-seed-registry ConfigMap):
 *
 *   node --import tsx /seed/seed-registry.ts --app /app --from /app/models
 *
 * Target: CHEXPO_MODEL_DIR / CHEXPO_MODEL_NAME (the server's own variables). A registry that already
 * names a CURRENT version is left alone, so a version the trainer promoted (or a rollback) survives
 * pod restarts. Otherwise every bundled version missing from the target is imported (verified, copied,
 * verified again) and CURRENT is set to the bundled CURRENT. Two replicas seeding at once are safe:
 * the registry refuses the second import of an id (REGISTRY_VERSION_EXISTS, skipped here) and CURRENT
 * moves under its lock (the same version either way).
 *
 * The registry module is loaded from `--app` at run time (a ConfigMap mount is a symlink farm, so a
 * relative import would resolve against the wrong directory); the types come from the repo.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

type RegistryModule = typeof import('../../src/registry/index.ts');

export interface SeedOptions {
  /** Root of the application (holds src/registry). */
  appDir: string;
  /** Registry root holding the bundled release (the image's models/). */
  from: string;
  /** Shared registry root (CHEXPO_MODEL_DIR). */
  to: string;
  /** Model name (CHEXPO_MODEL_NAME). */
  name: string;
}

export interface SeedResult {
  /** 'kept': the target already had a CURRENT; 'seeded': CURRENT now names `current`. */
  outcome: 'kept' | 'seeded';
  current: string;
  imported: string[];
}

export async function seedRegistry(options: SeedOptions): Promise<SeedResult> {
  const url = pathToFileURL(join(options.appDir, 'src', 'registry', 'index.ts')).href;
  const { CHEXPO_VERSION_FILES, Registry, RegistryError } = (await import(url)) as RegistryModule;
  const requiredFiles = CHEXPO_VERSION_FILES;
  const target = await Registry.open(options.to, options.name, { requiredFiles });
  const source = await Registry.open(options.from, options.name, { requiredFiles });
  try {
    const existing = await target.current();
    if (existing !== null) return { outcome: 'kept', current: existing, imported: [] };
    const bundledCurrent = await source.current();
    if (bundledCurrent === null) {
      throw new Error(`the bundled registry ${source.dir} has no CURRENT version to seed from`);
    }
    const present = new Set((await target.list()).map((e) => e.version));
    const imported: string[] = [];
    for (const entry of await source.list()) {
      if (present.has(entry.version)) continue;
      try {
        await target.importVersion(source.versionDir(entry.version));
        imported.push(entry.version);
      } catch (thrown) {
        const raced = thrown instanceof RegistryError && thrown.code === 'REGISTRY_VERSION_EXISTS';
        if (!raced) throw thrown;
      }
    }
    // Another seeder may have set it meanwhile: keep theirs. (In a tight race both set the same
    // version and history holds two identical 'set' lines; harmless.)
    const now = await target.current();
    if (now !== null) return { outcome: 'kept', current: now, imported };
    await target.setCurrent(bundledCurrent, { reason: 'seeded from the image', actor: 'seed-registry' });
    return { outcome: 'seeded', current: bundledCurrent, imported };
  } finally {
    target.close();
    source.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { app: { type: 'string', default: '/app' }, from: { type: 'string', default: '/app/models' } },
  });
  const to = process.env.CHEXPO_MODEL_DIR;
  const name = process.env.CHEXPO_MODEL_NAME ?? 'chexpo-tiny';
  if (!to) throw new Error('CHEXPO_MODEL_DIR must name the shared registry');
  const result = await seedRegistry({ appDir: values.app!, from: values.from!, to, name });
  console.log(JSON.stringify({ msg: 'seed-registry', registry: to, model: name, ...result }));
}

if (process.argv[1]?.endsWith('seed-registry.ts')) {
  main().catch((thrown: unknown) => {
    console.error(`seed-registry: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    process.exitCode = 1;
  });
}
