/** Moved to src/cli/args.ts (issue 15); this re-export stays while src/loop's command files import this path. */
export * from './cli/args.ts';
