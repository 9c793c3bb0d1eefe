/** Coded failures of one round (runLoop); the run record keeps the code and the message. */
import { defineErrors } from '../errors/define.ts';

export class LoopError extends defineErrors('LoopError', {
  LOOP_NO_CURRENT: {
    when: 'The registry has no CURRENT version to improve on: publish one first (`chexpo release`, or the server seeds its bundled version).',
  },
  LOOP_UNKNOWN_BASE: {
    when: 'The version given to start the round from (`--base`) is not a readable version of the registry: name one `chexpo release` published.',
  },
  LOOP_NO_PAIRS: {
    when: 'Mining and pairing gave no preference pair (no hard examples, or none pairable): the round fails without training; wait for more feedback or widen the mining budget.',
  },
  LOOP_LEASE_LOST: {
    when: "Another round took over the registry lease while this one ran (this one's heartbeat stalled): the candidate is not published.",
  },
  LOOP_FAILED: {
    when: 'Recorded (never thrown) when a round failed with an error that has no code; the record and the log hold its message.',
  },
}) {}
