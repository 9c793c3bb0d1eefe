/** Moved to src/inference/offline/controls.ts (issue 15); this re-export stays while src/loop imports this path. */
export * from '../inference/offline/controls.ts';
