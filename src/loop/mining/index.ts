/**
 * Hard-example mining for the CheXPO loop: score the current model on the labelled pool, select
 * what it gets wrong or is unsure of (benchmark and live), expand by image similarity in the store,
 * and balance the selection per finding × task under the preference budget.
 */
export {
  type BalanceOptions,
  balanceSelection,
  cellKey,
  type Distribution,
  dedupeSelection,
  distribution,
  formatDistribution,
  preferenceBudget,
} from './balance.ts';
export {
  type BenchmarkMining,
  type BenchmarkOptions,
  mineBenchmark,
  selectHard,
} from './benchmark.ts';
export {
  CONFIDENCE_SOURCE,
  type ConfidenceSource,
  confidenceOf,
  DEFAULT_THRESHOLDS,
  hardReason,
  isHard,
  MINING_TASKS,
  PASS_MARKS,
  passes,
  type TaskRecord,
  type Thresholds,
} from './criterion.ts';
export {
  type ConfidenceCurve,
  type CurveBin,
  type CurveOptions,
  confidenceCurve,
  errorAuroc,
  type TaskCurve,
} from './curve.ts';
export { MiningError, type MiningErrorCode } from './errors.ts';
export {
  benchmarkSeeds,
  type ExpandOptions,
  type ExpansionResult,
  type ExpansionSeed,
  type ExpansionStats,
  expandBySimilarity,
  lookupFrom,
  type NeighbourLookup,
  type SeedSource,
  seedFilter,
  seedTask,
} from './expand.ts';
export {
  comparableAnswer,
  type FixableOptions,
  fixableCounts,
  keepFixable,
  markFixable,
  PRIOR_DRIVEN_KINDS,
} from './fixable.ts';
export {
  type LiveLabel,
  type LiveMining,
  type LiveOptions,
  type LiveSeed,
  type LiveTrainingCase,
  liveSeed,
  parseLiveLabel,
  readLiveHardExamples,
} from './live.ts';
export { type IndexPoolOptions, indexPool, MIN_POOL_BATCH, type PoolEntry, poolRow } from './pool.ts';
export { type SampleAnswersOptions, sampleAnswers } from './sample-answers.ts';
export { caseEmbeddings, type ScoreOptions, type ScoreProgress, scoreSamples } from './score.ts';
export {
  chooseThresholds,
  type ThresholdChoice,
  type ThresholdOptions,
  type ThresholdResult,
} from './thresholds.ts';
