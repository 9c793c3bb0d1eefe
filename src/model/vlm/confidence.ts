/** Moved to src/inference/confidence.ts (issue 15); this re-export stays while src/server/console/review-queue.ts imports this path. */
export * from '../../inference/confidence.ts';
