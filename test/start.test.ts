/**
 * Production start: where Node strips types (the engines range, CI, the images), bin/chexpo.js runs the
 * sources without tsx; a resolve hook that refuses any tsx specifier proves it. On older Node (the
 * development machines' Node 20) the tsx fallback is what runs, so there is nothing to check.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const NO_TSX =
  'data:text/javascript,import{registerHooks}from"node:module";registerHooks({resolve(s,c,n){' +
  'if(/^tsx(\\/|$)/.test(s))throw new Error("tsx was loaded");return n(s,c)}})';
const strips = Boolean(process.features.typescript);

function chexpo(...nodeArgs: string[]) {
  return spawnSync(process.execPath, [...nodeArgs, '--import', NO_TSX, 'bin/chexpo.js', '--version'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

test('bin/chexpo.js runs the sources by Node type stripping, without loading tsx', { skip: !strips }, () => {
  const run = chexpo();
  assert.equal(run.status, 0, run.stderr);
  assert.equal(
    run.stdout.trim().split(/\s+/).at(-1),
    JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')).version,
  );
});

test('with type stripping off it falls back to tsx (which the hook then refuses)', { skip: !strips }, () => {
  const run = chexpo('--no-experimental-strip-types');
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /tsx was loaded/);
});
