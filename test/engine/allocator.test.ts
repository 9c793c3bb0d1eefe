import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocatorWarning, JEMALLOC_CONF, mallocInUse } from '../../src/engine/allocator.ts';

const onGlibc =
  process.platform === 'linux' &&
  Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime,
  );

test('on glibc, the engine warns, thresholds pinned or not, and says how to preload jemalloc', {
  skip: !onGlibc,
}, () => {
  for (const env of [{}, { MALLOC_TRIM_THRESHOLD_: '1048576' }, { MALLOC_MMAP_THRESHOLD_: '131072' }]) {
    const warning = allocatorWarning(env, 'glibc') ?? '';
    assert.match(warning, /RSS grows with every model swap/);
    assert.ok(warning.includes(`MALLOC_CONF=${JEMALLOC_CONF}`), warning);
  }
  assert.match(
    allocatorWarning({ MALLOC_TRIM_THRESHOLD_: '1048576' }, 'glibc') ?? '',
    /MALLOC_TRIM_THRESHOLD_ set/,
  );
});

test('no warning on jemalloc or off glibc', () => {
  assert.equal(allocatorWarning({}, 'jemalloc'), undefined);
  assert.equal(allocatorWarning({}, 'unknown'), undefined);
});

test('jemalloc is recognised by its mapping, wherever the library lies', { skip: !onGlibc }, () => {
  const line = (path: string) => `7f1c2a000000-7f1c2a0a1000 r-xp 00000000 08:01 1234 ${path}\n`;
  const glibc = line('/usr/lib/x86_64-linux-gnu/libc.so.6');
  assert.equal(mallocInUse(glibc), 'glibc');
  assert.equal(mallocInUse(glibc + line('/usr/local/lib/libjemalloc.so.2')), 'jemalloc');
  assert.equal(mallocInUse(line('/usr/lib/aarch64-linux-gnu/libjemalloc.so.2') + glibc), 'jemalloc');
  assert.equal(mallocInUse(glibc + line('/opt/x/libjemalloc_extra/libc.so')), 'glibc');
  // This process: whatever LD_PRELOAD says (none in the test run, unless the caller preloads it).
  assert.equal(mallocInUse(), /jemalloc/.test(process.env.LD_PRELOAD ?? '') ? 'jemalloc' : 'glibc');
});
