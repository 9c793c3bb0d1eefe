export { TokenizerError, type TokenizerErrorCode } from './errors.ts';
export {
  type BuildOptions,
  type Encoded,
  type EncodeOptions,
  type LegacyTokenizerJSON,
  pretokenize,
  SPECIAL_TOKENS,
  type SpecialToken,
  TOKENIZER_FORMAT,
  TOKENIZER_FORMAT_VERSION,
  Tokenizer,
  type TokenizerJSON,
  tokenPiece,
  tokenPieces,
} from './tokenizer.ts';
