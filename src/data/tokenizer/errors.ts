export type TokenizerErrorCode = 'CHEXPO_ERR_TOKENIZER_FORMAT' | 'CHEXPO_ERR_TOKENIZER_ID';

export class TokenizerError extends Error {
  readonly code: TokenizerErrorCode;

  constructor(code: TokenizerErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'TokenizerError';
    this.code = code;
  }
}
