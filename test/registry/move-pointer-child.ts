/**
 * Another process for the registry tests: opens the registry and moves CURRENT `count` times, cycling
 * through the given versions. Usage: node --import tsx move-pointer-child.ts <root> <name> <count> <v>...
 */
import { Registry } from '../../src/registry/index.ts';

const [root, name, count, ...versions] = process.argv.slice(2);
const registry = await Registry.open(root!, name!);
for (let i = 0; i < Number(count); i++) {
  await registry.setCurrent(versions[i % versions.length]!, {
    reason: `child ${i}`,
    actor: `pid-${process.pid}`,
  });
}
registry.close();
