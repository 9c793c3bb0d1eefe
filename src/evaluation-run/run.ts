/** Moved to src/inference/offline/run.ts (issue 15); this re-export stays while src/loop imports this path. */
export * from '../inference/offline/run.ts';
