import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { IMAGE_ERROR_CODES } from '../../src/data/image/errors.ts';
import { ERROR_CATALOGUE, IMAGE_INPUT_ERRORS } from '../../src/errors/public.ts';
import { CONFIG_SCHEMA } from '../../src/server/config.ts';
import { toApiError } from '../../src/server/error-mapping.ts';
import { ERROR_FAMILIES } from './error-families.ts';

const doc = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** docs/errors.md split at its internal codes: the public table comes before, the internal one after. */
const [PUBLIC_ERRORS_DOC, INTERNAL_ERRORS_DOC] = doc('docs/errors.md').split('\n## Internal codes\n');

/** Rows of the markdown tables in a text whose first cell is a `code` span, split into cells. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => /^\| `[A-Z_]+` \|/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1');

test('docs/errors.md lists exactly the catalogue: code, status, message, Retry-After', () => {
  const rows = tableRows(PUBLIC_ERRORS_DOC);
  assert.deepEqual(
    rows.map((r) => unquote(r[0])),
    Object.keys(ERROR_CATALOGUE),
  );
  for (const [code, status, message, retryAfter] of rows) {
    const spec: { status: number; message: string; retryAfter?: boolean } =
      ERROR_CATALOGUE[unquote(code) as keyof typeof ERROR_CATALOGUE];
    assert.equal(Number(status), spec.status, code);
    assert.equal(unquote(message), spec.message, code);
    assert.equal(retryAfter === 'yes', spec.retryAfter === true, code);
  }
});

test('docs/errors.md lists every internal code of every error family: code, family, when', () => {
  const internal = ERROR_FAMILIES.flatMap((f) =>
    Object.entries(f.specs)
      .filter(([, spec]) => spec.status === undefined)
      .map(([code, spec]) => [`\`${code}\``, f.family, spec.when]),
  );
  assert.deepEqual(tableRows(INTERNAL_ERRORS_DOC), internal);
});

test('codes are unique across families, and public codes are the catalogue entries', () => {
  const seen = new Set<string>();
  for (const f of ERROR_FAMILIES) {
    for (const [code, spec] of Object.entries(f.specs)) {
      if (spec.status !== undefined) {
        assert.equal(spec, (ERROR_CATALOGUE as Record<string, unknown>)[code], code);
        continue;
      }
      assert.ok(!seen.has(code), `${code} defined twice`);
      seen.add(code);
    }
  }
});

test('the docs test knows every error family defined in src/ (a new family must be listed)', () => {
  const files = readdirSync(new URL('../../src/', import.meta.url), { recursive: true, encoding: 'utf8' });
  const defined = files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('define.ts'))
    .flatMap((f) => [...doc(`src/${f}`).matchAll(/defineErrors\(\s*'(\w+)'/g)].map((m) => m[1]));
  assert.deepEqual(defined.sort(), ERROR_FAMILIES.map((f) => f.family).sort());
});

test('image decoder codes: client-input codes are 4xx catalogue entries, the rest are INTERNAL', () => {
  const clientCodes: string[] = Object.keys(IMAGE_INPUT_ERRORS);
  for (const code of clientCodes) assert.ok((IMAGE_ERROR_CODES as readonly string[]).includes(code), code);
  for (const code of IMAGE_ERROR_CODES) {
    const mapped = toApiError(Object.assign(new Error('x'), { code }));
    if (clientCodes.includes(code)) {
      assert.equal(mapped.code, code);
      assert.ok(mapped.statusCode >= 400 && mapped.statusCode < 500, code);
    } else {
      // e.g. INVALID_GRAY_IMAGE: a programming error inside the server, not the client's input.
      assert.equal(mapped.code, 'INTERNAL', code);
    }
  }
});

test('docs/configuration.md lists exactly the variables of schemas/config.json, with their types and defaults', () => {
  const rows = tableRows(doc('docs/configuration.md'));
  const properties = CONFIG_SCHEMA.properties as Record<
    string,
    { type: string; default: unknown; enum?: string[] }
  >;
  assert.deepEqual(
    rows.map((r) => unquote(r[0])),
    Object.keys(properties),
  );
  for (const [name, type, defaultCell] of rows) {
    const spec = properties[unquote(name)];
    if (spec.enum) assert.deepEqual(type.split(' | ').map(unquote), spec.enum, name);
    else assert.ok(type.startsWith(spec.type), `${name}: ${type} vs ${spec.type}`);
    const documented = defaultCell === '(empty)' ? '' : unquote(defaultCell);
    assert.equal(documented, String(spec.default), name);
  }
});

test('schemas/error.json enumerates exactly the catalogue codes, in order', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/error.json', import.meta.url), 'utf8'));
  assert.deepEqual(schema.properties.error.properties.code.enum, Object.keys(ERROR_CATALOGUE));
});
