/** A small RFC 4180 CSV reader: quoted fields, doubled quotes, commas and newlines inside quotes, CRLF, BOM. */
import { ImportError } from './errors.ts';

export interface CsvRow {
  /** 1-based line where the record starts. */
  line: number;
  values: Record<string, string>;
}

export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRecord[] {
  const rows: CsvRecord[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let quoteLine = 0;
  let rowLine = 1;
  const endField = (): void => {
    row.push(field);
    field = '';
  };
  const endRow = (): void => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push({ line: rowLine, fields: row });
    row = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
      quoteLine = line;
    } else if (ch === ',') endField();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (quoted) throw new ImportError('CHEXPO_ERR_IMPORT_CSV', 'unterminated quoted field', quoteLine);
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** Rows as objects keyed by the header; a row with a different field count is an error. */
export function readCsvRecords(text: string): { header: string[]; rows: CsvRow[] } {
  const [header, ...body] = parseCsv(text);
  if (!header) throw new ImportError('CHEXPO_ERR_IMPORT_CSV', 'empty CSV');
  const names = header.fields.map((h) => h.trim());
  const rows = body.map(({ line, fields }) => {
    if (fields.length !== names.length) {
      throw new ImportError(
        'CHEXPO_ERR_IMPORT_CSV',
        `expected ${names.length} fields, found ${fields.length}`,
        line,
      );
    }
    return { line, values: Object.fromEntries(names.map((n, j) => [n, fields[j]])) };
  });
  return { header: names, rows };
}
