import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { IMAGE_ERROR_CODES } from '../../src/data/image/errors.ts';
import { ERROR_CATALOGUE, IMAGE_INPUT_ERRORS } from '../../src/errors/public.ts';
import { CONFIG_SCHEMA } from '../../src/server/config.ts';
import { toApiError } from '../../src/server/error-mapping.ts';

/** Rows of the markdown tables in a doc whose first cell is a `code` span, split into cells. */
function tableRows(path: string): string[][] {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
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
  const rows = tableRows('docs/errors.md');
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
  const rows = tableRows('docs/configuration.md');
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
