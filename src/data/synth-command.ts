/** Moved to src/cli/synth.ts (issue 15); this re-export stays while src/loop/loop-data.ts imports this path. */
export * from '../cli/synth.ts';
