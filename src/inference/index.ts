/**
 * Inference: one answer from a model version, for serving, evaluation and mining alike. Here the
 * answer types, generation and the prompt; the OOD module is ./ood/, the offline runner ./offline/.
 */
export type * from './answer.ts';
export {
  chooseTokens,
  type DecodeBatch,
  type DecodeRow,
  type EncodedImages,
  encodeImages,
  type GeneratedToken,
  type Generation,
  type GenerationRequest,
  Generator,
  type GeneratorOptions,
  type LogitsProcessor,
  prefill,
  type ServingSessions,
  type StoppingCriterion,
  step,
  stopAtEos,
  stopAtMaxTokens,
} from './generate.ts';
export { buildPrompt, REPORT_PROMPT } from './prompt.ts';
