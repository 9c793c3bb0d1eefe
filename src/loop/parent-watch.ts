/**
 * A `chexpo loop run` started by the server has an IPC channel to it. When the server goes away
 * (crash, OOM kill, `kill -9`: nothing a signal handler would see), the channel closes and the
 * child gets 'disconnect': it gives its lease back and exits, so no orphan round keeps training and
 * publishing under pid 1 while a restarted server starts another.
 */
export const EXIT_PARENT_GONE = 75;
/** Set by the spawning server: this process was given an IPC lifeline (so a closed one means gone). */
export const LIFELINE_ENV = 'CHEXPO_PARENT_LIFELINE';

/** Exits the process (after `beforeExit`) when its parent's IPC channel closes; returns unwatch. */
export function exitWithParent(beforeExit: () => void): () => void {
  const onDisconnect = (): void => {
    console.error('the server that started this run went away; stopping the run');
    try {
      beforeExit();
    } finally {
      process.exit(EXIT_PARENT_GONE);
    }
  };
  if (!process.connected || !process.channel) {
    // Started with a lifeline that is already closed: the parent died before this watch began.
    if (process.env[LIFELINE_ENV] === '1') onDisconnect();
    return () => {};
  }
  process.once('disconnect', onDisconnect);
  // The channel must not keep the run alive on its own (it ends when the work does).
  process.channel.unref();
  return () => process.off('disconnect', onDisconnect);
}
