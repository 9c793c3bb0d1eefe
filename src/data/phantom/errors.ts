/** Coded errors of the phantom generator; `code` is stable, the message is for people. */
export type PhantomErrorCode =
  | 'CONFIG_PREVALENCE'
  | 'CONFIG_BOOST'
  | 'CONFIG_NOT_DRIVER'
  | 'RENDER_SIZE'
  | 'EDIT_NOT_APPLICABLE'
  | 'EDIT_UNKNOWN_FINDING';

export class PhantomError extends Error {
  readonly code: `CHEXPO_ERR_PHANTOM_${PhantomErrorCode}`;

  constructor(code: PhantomErrorCode, message: string) {
    super(message);
    this.name = 'PhantomError';
    this.code = `CHEXPO_ERR_PHANTOM_${code}`;
  }
}
