/**
 * The data part's shared core: the label and sample types and the seeded random source. Its modules
 * have their own index: image/, phantom/, tokenizer/, instructions/, labeler/, report/, import/, synth/.
 */
export { Rng } from './random.ts';
export * from './types.ts';
