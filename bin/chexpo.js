#!/usr/bin/env node
// Runs the CLI from its TypeScript sources. Where Node strips types itself (Node >= 22.18 and 23.6+
// by default, the versions in package.json's engines and both images), the sources load as written:
// no loader, no transform. Older Node (the development machines' Node 20), or Node started with
// --no-experimental-strip-types, registers tsx's on-the-fly transform first.
if (!process.features.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import('../src/cli/main.ts');
