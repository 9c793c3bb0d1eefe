import { defineErrors } from '../../errors/define.ts';

const Base = defineErrors('ImportError', {
  CHEXPO_ERR_IMPORT_CSV: {
    when: '`chexpo import`: the label CSV is empty or malformed (an unterminated quoted field); the message gives the line.',
  },
  CHEXPO_ERR_IMPORT_COLUMNS: {
    when: '`chexpo import`: the CSV lacks Path or observation columns of the CheXpert/MIMIC-CXR-JPG layout.',
  },
  CHEXPO_ERR_IMPORT_VALUE: {
    when: '`chexpo import`: a label cell other than 1, 0, -1 or blank; the message gives the column and line.',
  },
  CHEXPO_ERR_IMPORT_PATIENT: {
    when: '`chexpo import`: a Path without patientNNN/studyN, so the patient cannot be kept on one side of the split.',
  },
});
export type ImportErrorCode = InstanceType<typeof Base>['code'];

export class ImportError extends Base {
  /** 1-based line of the CSV record that failed, when known. */
  readonly line?: number;

  constructor(code: ImportErrorCode, message: string, line?: number) {
    super(code, `${message}${line !== undefined ? ` (line ${line})` : ''}`);
    if (line !== undefined) this.line = line;
  }
}
