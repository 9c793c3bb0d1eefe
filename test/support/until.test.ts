import assert from 'node:assert/strict';
import { test } from 'node:test';
import { until } from './until.ts';

test('until resolves once the condition holds and fails, naming what it waited for, at its deadline', async () => {
  let polls = 0;
  await until(() => ++polls >= 3, 'three polls', { everyMs: 1 });
  assert.equal(polls, 3);
  await assert.rejects(
    until(() => false, 'a condition that never holds', { timeoutMs: 30, everyMs: 5, state: () => 'nothing' }),
    /gave up after 30 ms waiting for a condition that never holds \(last seen: nothing\)/,
  );
});
