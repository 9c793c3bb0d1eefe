/** The store: contract, LanceDB implementation, write queue and its metrics adaptor. */
export * from './contract.ts';
export { STORE_ERROR_CODES, StoreError, type StoreErrorCode } from './errors.ts';
export {
  appendLabelEntry,
  type LabelAuthorRole,
  type LabelEntry,
  labelEntries,
  latestPermittedEntry,
  MAX_LABEL_ENTRIES,
} from './labels.ts';
export { LanceStore, type LanceStoreOptions } from './lance-store.ts';
export { LazyStore } from './lazy-store.ts';
export * from './queue-metrics.ts';
export { checkVector, validateNewAnswerRecord, validateNewHardExample } from './rows.ts';
export { tableSchema, vectorType } from './schemas.ts';
export { sqlAnd, sqlEpochMs, sqlIn, sqlString } from './sql.ts';
export * from './write-queue.ts';
