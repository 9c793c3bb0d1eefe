/** `chexpo synth`'s work as a plain function: a labelled phantom data set written to a directory. */
export { type SynthOptions, type SynthResult, synthesize } from './run.ts';
