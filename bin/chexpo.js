#!/usr/bin/env node
// Registers the TypeScript loader, then runs the CLI; one code path for dev, tests and production.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
