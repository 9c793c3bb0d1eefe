/**
 * The writable default registry. The bundled release lives in the repo's (or image's) `models/`,
 * which the trainer must never publish into: a checkout would gain untracked versions and a moved
 * CURRENT, and an image's copy is read-only. So when CHEXPO_MODEL_DIR is unset, `chexpo serve` seeds
 * `./var/models` from the bundled registry and serves from there.
 *
 * The Kubernetes init container (deploy/k8s/base/seed-registry.ts) runs this same function. A target that
 * already names a CURRENT is kept, so promoted versions and rollbacks survive restarts; otherwise every
 * bundled version missing from the target is imported (verified, copied, verified again) and CURRENT
 * is set to the bundled CURRENT. Two seeders at once are safe: the registry refuses the second import
 * of an id (REGISTRY_VERSION_EXISTS, skipped) and CURRENT moves under its lock.
 */
import { CHEXPO_VERSION_FILES, Registry, RegistryError } from '../../registry/index.ts';

export interface SeedResult {
  outcome: 'kept' | 'seeded';
  current: string;
  imported: string[];
}

export async function seedWritableRegistry(options: {
  from: string;
  to: string;
  name: string;
  /** Who moves CURRENT, for the registry history (default `chexpo serve`). */
  actor?: string;
}): Promise<SeedResult> {
  const requiredFiles = CHEXPO_VERSION_FILES;
  const target = await Registry.open(options.to, options.name, { requiredFiles });
  const source = await Registry.open(options.from, options.name, { requiredFiles });
  try {
    const existing = await target.current();
    if (existing !== null) return { outcome: 'kept', current: existing, imported: [] };
    const bundledCurrent = await source.current();
    if (bundledCurrent === null)
      throw new Error(`the bundled registry ${source.dir} has no CURRENT version to seed from`);
    const present = new Set((await target.list()).map((e) => e.version));
    const imported: string[] = [];
    for (const entry of await source.list()) {
      if (present.has(entry.version)) continue;
      try {
        await target.importVersion(source.versionDir(entry.version));
        imported.push(entry.version);
      } catch (thrown) {
        if (!(thrown instanceof RegistryError && thrown.code === 'REGISTRY_VERSION_EXISTS')) throw thrown;
      }
    }
    // Another seeder may have set it meanwhile: keep theirs.
    const now = await target.current();
    if (now !== null) return { outcome: 'kept', current: now, imported };
    await target.setCurrent(bundledCurrent, {
      reason: 'seeded from the bundled release',
      actor: options.actor ?? 'chexpo serve',
    });
    return { outcome: 'seeded', current: bundledCurrent, imported };
  } finally {
    target.close();
    source.close();
  }
}
