export type ImportErrorCode =
  | 'CHEXPO_ERR_IMPORT_CSV'
  | 'CHEXPO_ERR_IMPORT_COLUMNS'
  | 'CHEXPO_ERR_IMPORT_VALUE'
  | 'CHEXPO_ERR_IMPORT_PATIENT';

export class ImportError extends Error {
  readonly code: ImportErrorCode;
  /** 1-based line of the CSV record that failed, when known. */
  readonly line?: number;

  constructor(code: ImportErrorCode, message: string, line?: number) {
    super(`${code}: ${message}${line !== undefined ? ` (line ${line})` : ''}`);
    this.name = 'ImportError';
    this.code = code;
    if (line !== undefined) this.line = line;
  }
}
