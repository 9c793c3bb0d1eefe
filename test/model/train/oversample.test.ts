import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstructionSample, TaskType } from '../../../src/data/types.ts';
import { type LoadedSplit, oversampleTasks, parseOversample } from '../../../src/model/train/dataset.ts';

function split(tasks: TaskType[]): LoadedSplit {
  return {
    examples: tasks.map((task, i) => ({
      sample: { id: `s${i}`, task } as InstructionSample,
      sequence: { inputIds: [1], targetIds: [2], lossMask: [1] },
    })),
    images: new Map(),
    tooLong: 0,
  };
}

test('oversampling repeats only the named tasks, by their factor, after the originals', () => {
  const s = split(['closed', 'report', 'choice', 'report']);
  const out = oversampleTasks(s, parseOversample('report=3'));
  assert.deepEqual(
    out.examples.map((e) => e.sample.id),
    ['s0', 's1', 's2', 's3', 's1', 's1', 's3', 's3'],
  );
  assert.equal(oversampleTasks(s, {}), s);
});

test('a bad --oversample spec is refused with the reason', () => {
  assert.throws(() => parseOversample('reports=2'), /not <task>=<whole number/);
  assert.throws(() => parseOversample('report=0'), /not <task>=<whole number/);
  assert.deepEqual(parseOversample(' report=2 , abnormality_list=3 '), { report: 2, abnormality_list: 3 });
});
