import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import {
  ImportError,
  importedInstructions,
  importLabelCsv,
  importLabelCsvFile,
  parseCsv,
} from '../../../src/data/import/index.ts';
import type { Finding, FindingKey } from '../../../src/data/types.ts';

const FIXTURE = join(import.meta.dirname, '../../fixtures/chexpert');
const CSV = join(FIXTURE, 'valid.csv');

const labelsOf = (findings: Finding[]): Partial<Record<FindingKey, boolean>> =>
  Object.fromEntries(findings.map((f) => [f.name, f.present]));

test('CSV reader handles quotes, doubled quotes, embedded commas and newlines, CRLF and BOM', () => {
  const rows = parseCsv('\ufeffa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n1,,3\n');
  assert.deepEqual(
    rows.map((r) => r.fields),
    [
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\nlines'],
      ['1', '', '3'],
    ],
  );
  assert.deepEqual(
    rows.map((r) => r.line),
    [1, 2, 4],
  );
  assert.throws(
    () => parseCsv('a\n"open'),
    (e: unknown) => e instanceof ImportError && e.code === 'CHEXPO_ERR_IMPORT_CSV',
  );
});

test('CheXpert fixture: frontal rows become presence-only cases with hashed patients and real images', async () => {
  const records = await importLabelCsvFile(CSV, { imageRoot: FIXTURE });
  assert.equal(records.length, 3, 'the lateral view is skipped');
  const [first, normal, lesion] = records;

  assert.deepEqual(labelsOf(first.case.findings), {
    cardiomegaly: true,
    pleural_effusion: true,
    consolidation: false,
    pneumothorax: false,
    nodule: false,
    mass: false,
  });
  assert.equal(first.case.view, 'AP');
  assert.deepEqual(first.uncertainFindings, ['edema']);
  assert.deepEqual(first.unmappedPositive, ['Enlarged Cardiomediastinum', 'Support Devices']);
  assert.ok(first.case.findings.every((f) => Object.keys(f).sort().join() === 'name,present'));

  // No Finding = 1: every non-device finding absent; Support Devices 0: both devices absent.
  assert.equal(normal.case.findings.length, 12);
  assert.ok(normal.case.findings.every((f) => !f.present));
  assert.equal(normal.case.view, 'PA');

  // Lung Lesion 1 names neither nodule nor mass: both stay unknown.
  const l = labelsOf(lesion.case.findings);
  assert.equal(l.nodule, undefined);
  assert.equal(l.mass, undefined);
  assert.equal(l.atelectasis, true);
  assert.equal(l.rib_fracture, false);
  assert.equal(l.pneumothorax, undefined, 'uncertain ignored by default');

  for (const r of records) {
    assert.match(r.patientId, /^[0-9a-f]{16}$/);
    // Only the local image path still names the source folder; the case and ids never do.
    assert.ok(!/6454\d|patient/.test(JSON.stringify(r.case) + r.patientId + r.studyId));
    assert.ok(existsSync(r.imagePath), r.imagePath);
    const png = PNG.sync.read(readFileSync(r.imagePath));
    assert.equal(png.width, 32);
  }
  assert.notEqual(records[0].patientId, records[1].patientId);
  const other = importLabelCsv(readFileSync(CSV, 'utf8'), { imageRoot: FIXTURE, salt: 'elsewhere' });
  assert.notEqual(other[0].patientId, records[0].patientId);
});

test('uncertain policy: U-Ones and U-Zeros', () => {
  const text = readFileSync(CSV, 'utf8');
  const ones = importLabelCsv(text, { imageRoot: FIXTURE, uncertain: 'positive' });
  const zeros = importLabelCsv(text, { imageRoot: FIXTURE, uncertain: 'negative' });
  assert.equal(labelsOf(ones[0].case.findings).edema, true);
  assert.equal(labelsOf(zeros[0].case.findings).edema, false);
  assert.equal(labelsOf(ones[2].case.findings).pneumothorax, true);
  const all = importLabelCsv(text, { imageRoot: FIXTURE, frontalOnly: false });
  assert.equal(all.length, 4);
});

test('imported records become instruction samples that only ask about known findings', async () => {
  const records = await importLabelCsvFile(CSV, { imageRoot: FIXTURE });
  const samples = importedInstructions(records, 7);
  assert.ok(samples.length > 5);
  for (const s of samples) {
    const r = records.find((x) => x.case.id === s.case_id)!;
    assert.ok(['closed', 'report', 'abnormality_list'].includes(s.task), s.task);
    if (s.finding) assert.ok(r.case.findings.some((f) => f.name === s.finding));
  }
  const normalList = samples.find((s) => s.case_id === records[1].case.id && s.task === 'abnormality_list');
  assert.equal(normalList?.answer, 'no acute abnormality');
  assert.deepEqual(importedInstructions(records, 7), samples);
});

test('MIMIC-CXR-JPG style rows locate images by subject, study and dicom id', () => {
  const obs =
    'No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices';
  const csv = `subject_id,study_id,dicom_id,ViewPosition,${obs}\n10000032,50414267,02aa804e,PA,,,,,,,,,,1.0,,,,\n10000032,50414267,ffbb,LATERAL,,,,,,,,,,1.0,,,,\n`;
  const records = importLabelCsv(csv, { imageRoot: '/data/mimic' });
  assert.equal(records.length, 1);
  assert.equal(records[0].imagePath, '/data/mimic/files/p10/p10000032/s50414267/02aa804e.jpg');
  assert.deepEqual(labelsOf(records[0].case.findings), { pneumothorax: true });
  assert.ok(!JSON.stringify(records[0].case).includes('10000032'));
});

test('malformed inputs fail with stable codes', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof ImportError ? e.code : 'other';
    }
    return undefined;
  };
  const header = readFileSync(CSV, 'utf8').split('\n')[0];
  const row = (values: string): string =>
    `${header}\nCheXpert-v1.0-small/valid/patient1/study1/view1_frontal.jpg,F,1,Frontal,AP,${values}\n`;
  assert.equal(
    code(() => importLabelCsv('a,b\n1,2\n', { imageRoot: '.' })),
    'CHEXPO_ERR_IMPORT_COLUMNS',
  );
  assert.equal(
    code(() => importLabelCsv('Path,Cardiomegaly\nx,1\n', { imageRoot: '.' })),
    'CHEXPO_ERR_IMPORT_COLUMNS',
  );
  assert.equal(
    code(() => importLabelCsv(row(',,2.0,,,,,,,,,,,'), { imageRoot: '.' })),
    'CHEXPO_ERR_IMPORT_VALUE',
  );
  assert.equal(
    code(() => importLabelCsv(row(',,1.0,,,,'), { imageRoot: '.' })),
    'CHEXPO_ERR_IMPORT_CSV',
  );
  const noPatient = `${header}\nimages/view1.jpg,F,1,Frontal,AP,,,,,,,,,,,,,,\n`;
  assert.equal(
    code(() => importLabelCsv(noPatient, { imageRoot: '.' })),
    'CHEXPO_ERR_IMPORT_PATIENT',
  );
});
