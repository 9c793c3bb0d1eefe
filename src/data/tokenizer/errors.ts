import { defineErrors } from '../../errors/define.ts';

export class TokenizerError extends defineErrors('TokenizerError', {
  CHEXPO_ERR_TOKENIZER_FORMAT: {
    when: "A tokenizer.json that is not chexpo's word tokenizer (format or version, special tokens, duplicate or non-contiguous ids): the file is damaged or of another model.",
  },
  CHEXPO_ERR_TOKENIZER_ID: {
    when: 'Decoding a token id the vocabulary does not hold (a model and tokenizer of different versions).',
  },
}) {}
export type TokenizerErrorCode = TokenizerError['code'];
