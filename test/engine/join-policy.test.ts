import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shouldJoin } from '../../src/engine/scheduler.ts';

const policy = { joinGroup: 4, joinEverySteps: 3 };
const state = (live: number, waiting: number, stepsSinceJoin = 0, maxBatch = 16) => ({
  live,
  maxBatch,
  waiting,
  stepsSinceJoin,
});

test('an idle worker starts a batch with whoever waits; nobody waiting, nothing to do', () => {
  assert.equal(shouldJoin(state(0, 1), policy), true);
  assert.equal(shouldJoin(state(0, 0), policy), false);
  assert.equal(shouldJoin(state(5, 0, 99), policy), false);
});

test('into a running batch, requests join in groups, or joinEverySteps steps after the last join', () => {
  assert.equal(shouldJoin(state(5, 3, 2), policy), false, 'three waiting, two steps since a join: wait');
  assert.equal(shouldJoin(state(5, 4, 0), policy), true, 'a group of four joins at once');
  assert.equal(
    shouldJoin(state(5, 1, 3), policy),
    true,
    'a lone request joins three steps after the last join',
  );
});

test('under saturation, joiners wait until a group of rows is free, not one row at a time', () => {
  assert.equal(shouldJoin(state(15, 20, 1), policy), false, 'one free row, a long queue: wait');
  assert.equal(shouldJoin(state(12, 20, 1), policy), true, 'four free rows: the group joins');
  assert.equal(shouldJoin(state(15, 20, 3), policy), true, 'but never more than joinEverySteps apart');
  assert.equal(shouldJoin(state(16, 9, 50), policy), false, 'no free row');
  assert.equal(
    shouldJoin(state(1, 5, 0, 2), policy),
    false,
    'maxBatch 2: one free row is not a group of two',
  );
  assert.equal(shouldJoin(state(0, 5, 0, 2), policy), true);
});

test('joinGroup 1 is the eager policy: join between every two steps', () => {
  assert.equal(shouldJoin(state(5, 1, 0), { joinGroup: 1, joinEverySteps: 0 }), true);
});
