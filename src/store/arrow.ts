/**
 * The Arrow classes the store builds with. `@lancedb/lancedb` is CommonJS and requires the
 * CommonJS build of apache-arrow, then checks `instanceof` against it; an ESM `import` of
 * apache-arrow loads the other (ESM) build, whose Tables fail those checks and get rebuilt by
 * LanceDB's sanitiser (which then rejects them as schema-mismatched). So the store takes every
 * Arrow value class from the same copy LanceDB uses. Types can still come from `import type`.
 */
import { createRequire } from 'node:module';

export const arrow: typeof import('apache-arrow') = createRequire(import.meta.url)('apache-arrow');
