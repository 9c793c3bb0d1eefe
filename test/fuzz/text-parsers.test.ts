/**
 * Properties of the text parsers on untrusted input:
 * - parseCsv on random CSV-ish text returns records or throws ImportError CHEXPO_ERR_IMPORT_CSV;
 *   on any table it writes with RFC 4180 quoting, it reads back exactly that table.
 * - importLabelCsv on the real CheXpert header with random cells (labels, paths, quotes) returns
 *   records or throws a coded ImportError, never anything else; every record's patient id is a hash.
 * - labelReport on random text and on shuffled clinical phrases never throws and labels every
 *   finding with one of the four labels.
 * Fixed seed; reports the cases tried.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { ImportError, importLabelCsv, parseCsv } from '../../src/data/import/index.ts';
import { labelReport } from '../../src/data/labeler/index.ts';
import { FINDING_KEYS } from '../../src/data/types.ts';

const SEED = 20_261_127;
const run = (property: fc.IProperty<never>, numRuns: number): number => {
  fc.assert(property as fc.IProperty<unknown>, { seed: SEED, numRuns });
  return numRuns;
};

const csvChar = fc.constantFrom(
  'a',
  'b',
  '1',
  '.',
  '-',
  ' ',
  ',',
  '"',
  '\n',
  '\r',
  '\r\n',
  '\ufeff',
  'é',
  '\t',
);
const csvText = fc.string({ unit: csvChar, maxLength: 200 });

function isCoded(error: unknown, codes: readonly string[]): boolean {
  return error instanceof ImportError && codes.includes(error.code);
}

test('parseCsv on random CSV-ish text: records, or CHEXPO_ERR_IMPORT_CSV', (t) => {
  const cases = run(
    fc.property(csvText, (text) => {
      try {
        for (const record of parseCsv(text)) {
          assert.ok(record.line >= 1 && record.fields.length >= 1);
        }
      } catch (error) {
        assert.ok(isCoded(error, ['CHEXPO_ERR_IMPORT_CSV']), String(error));
      }
    }) as never,
    1500,
  );
  t.diagnostic(`${cases} cases`);
});

/** RFC 4180 writer: quote a field when it holds a comma, quote, CR or LF (or is empty, to keep blank rows). */
const writeCsv = (table: string[][]): string =>
  table
    .map((row) =>
      row.map((f) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f)).join(','),
    )
    .join('\r\n');

test('parseCsv reads back any table written with RFC 4180 quoting', (t) => {
  const field = fc.string({ unit: csvChar, maxLength: 12 }).filter((f) => !f.startsWith('\ufeff'));
  // A row of one empty field reads as a blank line, which parseCsv skips by design.
  const row = fc.array(field, { minLength: 1, maxLength: 5 }).filter((r) => !(r.length === 1 && r[0] === ''));
  const table = fc.array(row, { minLength: 1, maxLength: 6 });
  const cases = run(
    fc.property(table, (rows) => {
      assert.deepEqual(
        parseCsv(writeCsv(rows)).map((r) => r.fields),
        rows,
      );
    }) as never,
    800,
  );
  t.diagnostic(`${cases} cases`);
});

const CHEXPERT = new URL('../fixtures/chexpert/valid.csv', import.meta.url);
const HEADER = readFileSync(CHEXPERT, 'utf8').split('\n')[0].trim().split(',');

test('importLabelCsv on the CheXpert header with random cells: records or a coded ImportError', (t) => {
  const label = fc.constantFrom('', '1.0', '0.0', '-1.0', '1', '2.0', 'nan', 'yes', '"1.0"', ' 1.0 ');
  const path = fc.oneof(
    fc.constantFrom(
      'CheXpert-v1.0-small/valid/patient1/study1/view1_frontal.png',
      'CheXpert-v1.0-small/train/patient00002/study3/view2_lateral.jpg',
      '../../etc/passwd',
      '',
      'patient/study',
    ),
    fc.string({ maxLength: 40 }).map((s) => s.replaceAll(/[,"\r\n]/g, '')),
  );
  const row = fc.tuple(path, fc.array(label, { minLength: HEADER.length - 1, maxLength: HEADER.length - 1 }));
  const cases = run(
    fc.property(fc.array(row, { maxLength: 6 }), fc.boolean(), (rows, dropColumn) => {
      const header = dropColumn ? HEADER.slice(0, -1) : HEADER;
      const text = [header.join(','), ...rows.map(([p, cells]) => [p, ...cells].join(','))].join('\n');
      try {
        for (const record of importLabelCsv(text, { imageRoot: '/data' })) {
          assert.match(record.patientId, /^[0-9a-f]{16}$/);
        }
      } catch (error) {
        assert.ok(
          isCoded(error, [
            'CHEXPO_ERR_IMPORT_CSV',
            'CHEXPO_ERR_IMPORT_COLUMNS',
            'CHEXPO_ERR_IMPORT_VALUE',
            'CHEXPO_ERR_IMPORT_PATIENT',
          ]),
          String(error),
        );
      }
    }) as never,
    600,
  );
  t.diagnostic(`${cases} cases`);
});

const LABELS = new Set(['positive', 'negative', 'uncertain', 'not_mentioned']);
const PHRASES = [
  'no',
  'not',
  'without',
  'possible',
  'may represent',
  'cannot exclude',
  'left',
  'right',
  'bilateral',
  'small',
  'large',
  'pleural effusion',
  'pneumothorax',
  'cardiomegaly',
  'nodule',
  'consolidation',
  'atelectasis',
  'edema',
  'rib fracture',
  'is seen',
  'resolved',
  '.',
  ',',
  ';',
  '\n',
  'no evidence of',
];

function assertLabels(text: string): void {
  const labels = labelReport(text);
  assert.deepEqual(Object.keys(labels).sort(), [...FINDING_KEYS].sort());
  for (const value of Object.values(labels)) assert.ok(LABELS.has(value), value);
}

test('labelReport on random text and on shuffled clinical phrases: never throws, labels every finding', (t) => {
  const phrases = fc.array(fc.constantFrom(...PHRASES), { maxLength: 30 }).map((p) => p.join(' '));
  const text = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    phrases,
  );
  const cases = run(fc.property(text, (s) => assertLabels(s)) as never, 1500);
  t.diagnostic(`${cases} cases`);
});
