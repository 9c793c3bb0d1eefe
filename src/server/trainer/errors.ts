/** Codes the round supervisor records on a run it saw fail from outside (never thrown). */
import { defineErrors } from '../../errors/define.ts';

export class TrainerRunFailure extends defineErrors('TrainerRunFailure', {
  TRAINER_ORPHANED: {
    when: 'A run stored as running whose process is gone (its server or pod died); recorded failed at the next poll so no run looks alive forever.',
  },
  TRAINER_TIMEOUT: {
    when: 'The loop process ran past CHEXPO_LOOP_MAX_RUN_MINUTES and was stopped; look at its log for the slow stage.',
  },
  TRAINER_STOPPED: {
    when: 'The server shut down while the loop process ran; it was stopped before finishing its record.',
  },
  TRAINER_CHILD_CRASHED: {
    when: 'The loop process exited before finishing its record (a crash, a signal, or it could not start); the message gives the exit code or signal.',
  },
}) {}
export type TrainerRunCode = TrainerRunFailure['code'];
