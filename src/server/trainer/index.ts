/** The server side of the CheXPO loop: the trainer supervisor, its child process, admin service, metrics. */
export { RegistryAdminService, type RegistryAdminServiceOptions } from './admin-service.ts';
export {
  type ChildExit,
  type LoopChild,
  type LoopChildSpec,
  type LoopTrigger,
  loopRunArgs,
  spawnLoopRun,
} from './child.ts';
export { observeFinishedRun, observeVersionScores, primaryScore } from './run-metrics.ts';
export { RunObserver, type RunObserverOptions } from './run-observer.ts';
export { type SeedResult, seedWritableRegistry } from './seed-registry.ts';
export {
  type ActiveRun,
  type FinishedRun,
  newRunId,
  type RunsStore,
  TrainerSupervisor,
  type TrainerSupervisorOptions,
} from './supervisor.ts';
