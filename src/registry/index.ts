export { REGISTRY_ERROR_CODES, RegistryError, type RegistryErrorCode } from './errors.ts';
export type { HistoryEntry, PointerAction } from './history.ts';
export {
  DEFAULT_LEASE_TTL_MS,
  LEASE_FILE,
  LeaseHeldError,
  type LeaseRecord,
  leaseExpired,
  leasePath,
  RoundLease,
  readLease,
} from './lease.ts';
export {
  CHEXPO_VERSION_FILES,
  type DataProvenance,
  type JsonValue,
  MANIFEST_FORMAT_VERSION,
  type Manifest,
  type ManifestFile,
  parseManifest,
  type TrainingProvenance,
  VERSION_ID_PATTERN,
} from './manifest.ts';
export type { PointerMove } from './pointer.ts';
export {
  BUNDLED_MODELS_ROOT,
  type PublishFields,
  type PublishListener,
  type PublishOptions,
  Registry,
  type RegistryOptions,
  type VersionEntry,
} from './registry.ts';
export { describeProblem, type VerifyProblem, type VerifyResult } from './verify.ts';
export type { ChangeCallback, CurrentChange, WatchOptions } from './watch.ts';
