/**
 * The import rules of docs/architecture.md ("Parts and what each may import"), enforced on every
 * TypeScript file under src/: each import (static, dynamic or a re-export, read by TypeScript's own
 * pre-processor, so comments and strings do not count) stays in its part or goes to a part the table
 * allows. Exceptions are named one by one with their reason, and each must still exist: once fixed,
 * it leaves the list. Scripts (scripts/) reach src/ only through index files (below).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(REPO, 'src');

/** What each part may import besides itself; `cli` (the commands) may import every part. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  errors: [],
  data: ['errors'],
  registry: ['errors'],
  store: ['data', 'errors'],
  plots: ['data', 'errors'],
  eval: ['data', 'errors'],
  model: ['data', 'errors'],
  inference: ['data', 'errors', 'eval', 'model'],
  engine: ['data', 'errors', 'eval', 'inference', 'model', 'registry'],
  loop: ['data', 'errors', 'eval', 'inference', 'model', 'plots', 'registry', 'store'],
  server: ['data', 'engine', 'errors', 'inference', 'loop', 'registry', 'store'],
  cli: ['*'],
};

/** Imports the table forbids, kept on purpose; paths relative to src/ (none left since issue 15). */
const EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [];

export function partOf(file: string): string {
  const [top, ...rest] = file.split('/');
  if (rest.length === 0) throw new Error(`src/${file}: a file outside every part`);
  return top;
}

/** Relative specifiers of one source text, resolved to paths relative to src/. */
export function importsOf(file: string, text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)));
}

export interface Violation {
  from: string;
  to: string;
  rule: string;
}

export function violations(sources: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of sources) {
    const from = partOf(file);
    const allowed = MAY_IMPORT[from] ?? [];
    for (const to of importsOf(file, text)) {
      if (to.startsWith('../')) continue; // outside src/ (package.json): no part
      const target = partOf(to);
      if (target === from || allowed.includes('*') || allowed.includes(target)) continue;
      if (EXCEPTIONS.some((e) => e.from === file && e.to === to)) continue;
      out.push({ from: file, to, rule: `${from} may not import ${target}` });
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [relative(SRC, path).split('\\').join('/')] : [];
  });
}

const sources = new Map(sourceFiles(SRC).map((f) => [f, readFileSync(join(SRC, f), 'utf8')]));

test('every import in src/ goes where docs/architecture.md allows', () => {
  assert.ok(sources.size > 100, `${sources.size} source files`);
  assert.deepEqual(violations(sources), []);
});

test('a forbidden import fails the check: engine → server, model → registry, inference → engine, anything → cli', () => {
  const planted = new Map([
    ['engine/x.ts', "import type { Metrics } from '../server/metrics.ts';"],
    ['model/x.ts', "export { Registry } from '../registry/index.ts';"],
    ['inference/x.ts', "const { Engine } = await import('../engine/index.ts');"],
    ['server/x.ts', "import { parseCommandArgs } from '../cli/args.ts';"],
    [
      'store/x.ts',
      "// import { x } from '../server/app.ts' in a comment is no import\nconst s = \"from '../cli.ts'\";",
    ],
  ]);
  assert.deepEqual(
    violations(planted).map((v) => v.rule),
    [
      'engine may not import server',
      'model may not import registry',
      'inference may not import engine',
      'server may not import cli',
    ],
  );
});

test('each exception named here still exists (src/ and scripts/)', () => {
  const named = [
    ...EXCEPTIONS.map((e) => ({ ...e, text: sources.get(e.from) })),
    ...SCRIPT_EXCEPTIONS.map((e) => ({ ...e, text: scripts.get(e.from) })),
  ];
  for (const e of named)
    assert.ok(importsOf(e.from, e.text ?? '').includes(e.to), `stale exception ${e.from} → ${e.to}`);
});

test('docs/architecture.md lists the same parts and imports as this test enforces', () => {
  const doc = readFileSync(join(REPO, 'docs/architecture.md'), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| `([a-z-]+)\/?` \|[^|\n]*\| ([^|\n]+) \|$/gm)].map((m) => [
      m[1],
      m[2].trim() === 'every part'
        ? ['*']
        : m[2].trim() === '—'
          ? []
          : m[2].split(',').map((p) => p.trim().replace(/`/g, '')),
    ]),
  );
  assert.deepEqual(Object.fromEntries(rows), MAY_IMPORT);
});

// ---- scripts/: only what the parts export ---------------------------------------------------------

/**
 * Scripts (benches, the demo, the soak) reach src/ only through index files: a part's
 * (`src/engine/index.ts`) or, in a part made of modules with their own, a module's
 * (`src/data/image/index.ts`); never a command (src/cli/). Paths relative to the repository.
 */
const SCRIPT_EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [
  {
    from: 'scripts/demo.ts',
    to: 'src/loop/record.ts',
    why: 'src/loop has no index yet: its round is being cut into stages (issue 15, seam 5)',
  },
];

export function scriptViolations(scripts: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of scripts) {
    for (const to of importsOf(file, text)) {
      if (!to.startsWith('src/')) continue;
      if (/^src\/(?!cli\/)[a-z-]+\/(?:[a-z-]+\/)?index\.ts$/.test(to)) continue;
      if (SCRIPT_EXCEPTIONS.some((e) => e.from === file && e.to === to)) continue;
      out.push({ from: file, to, rule: 'scripts import src/ only through an index file' });
    }
  }
  return out;
}

function scriptFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
    const path = posix.join(dir, e.name);
    if (e.isDirectory()) return scriptFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const scripts = new Map(scriptFiles('scripts').map((f) => [f, readFileSync(join(REPO, f), 'utf8')]));

test('scripts/ import src/ only through index files', () => {
  assert.ok(scripts.size > 10, `${scripts.size} script files`);
  assert.deepEqual(scriptViolations(scripts), []);
});

test('a script reaching past an index fails the check; an index of a part or of its module passes', () => {
  const planted = new Map([
    ['scripts/a.ts', "import { prepareImage } from '../src/engine/prepare.ts';"],
    ['scripts/bench/b.ts', "import type { Feeds } from '../../src/model/ort/session.ts';"],
    ['scripts/c.ts', "import { synthCommand } from '../src/cli/synth.ts';"],
    [
      'scripts/d.ts',
      "import { Engine } from '../src/engine/index.ts';\nimport { decodeImage } from '../src/data/image/index.ts';\nimport { fmt } from './bench/stats.ts';",
    ],
  ]);
  assert.deepEqual(
    scriptViolations(planted).map((v) => `${v.from} → ${v.to}`),
    [
      'scripts/a.ts → src/engine/prepare.ts',
      'scripts/bench/b.ts → src/model/ort/session.ts',
      'scripts/c.ts → src/cli/synth.ts',
    ],
  );
});
