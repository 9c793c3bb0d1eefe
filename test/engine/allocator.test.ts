import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocatorWarning } from '../../src/engine/allocator.ts';

const onGlibc =
  process.platform === 'linux' &&
  Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime,
  );

test('on glibc, the engine warns unless a malloc threshold is pinned in the environment', {
  skip: !onGlibc,
}, () => {
  assert.match(allocatorWarning({}) ?? '', /MALLOC_TRIM_THRESHOLD_/);
  assert.equal(allocatorWarning({ MALLOC_TRIM_THRESHOLD_: '1048576' }), undefined);
  assert.equal(allocatorWarning({ MALLOC_MMAP_THRESHOLD_: '131072' }), undefined);
});
