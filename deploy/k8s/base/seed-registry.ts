/**
 * Seeds a deployment's shared model registry from the image's bundled release (the init container of
 * deployment.yaml runs it; kustomize ships it as the chexpo-seed-registry ConfigMap):
 *
 *   node --import tsx /seed/seed-registry.ts --app /app --from /app/models
 *
 * Target: CHEXPO_MODEL_DIR / CHEXPO_MODEL_NAME (the server's own variables). A registry that already
 * names a CURRENT version is left alone, so a version the trainer promoted (or a rollback) survives
 * pod restarts. The rule itself is the server's own (`seedWritableRegistry`, which `chexpo serve` uses
 * for ./var/models); this file is its command-line wrapper.
 *
 * The module is loaded from `--app` at run time (a ConfigMap mount is a symlink farm, so a relative
 * import would resolve against the wrong directory); the types come from the repo.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

type SeedModule = typeof import('../../../src/server/trainer/seed-registry.ts');

export interface SeedOptions {
  /** Root of the application (holds src/server/trainer/seed-registry.ts). */
  appDir: string;
  /** Registry root holding the bundled release (the image's models/). */
  from: string;
  /** Shared registry root (CHEXPO_MODEL_DIR). */
  to: string;
  /** Model name (CHEXPO_MODEL_NAME). */
  name: string;
}

export type SeedResult = Awaited<ReturnType<SeedModule['seedWritableRegistry']>>;

export async function seedRegistry(options: SeedOptions): Promise<SeedResult> {
  const url = pathToFileURL(join(options.appDir, 'src', 'server', 'trainer', 'seed-registry.ts')).href;
  const { seedWritableRegistry } = (await import(url)) as SeedModule;
  return seedWritableRegistry({ from: options.from, to: options.to, name: options.name, actor: 'seed-registry' });
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
