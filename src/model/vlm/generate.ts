/** Moved to src/inference/generate.ts (issue 15); this re-export stays while src/loop/mining/sample-answers.ts, test/loop/dpo/train.test.ts import this path. */
export * from '../../inference/generate.ts';
