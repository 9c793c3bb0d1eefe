import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type * as DicomParser from 'dicom-parser';
import { PNG } from 'pngjs';
import {
  DX_FOR_PRESENTATION_SOP_CLASS,
  decodeImage,
  encodeDicom,
  encodePng8,
  encodePng16,
  grayToDecoded,
} from '../../../src/data/image/index.ts';
import { readPngHeader } from '../../../src/data/image/png-chunks.ts';
import { TS } from '../../../src/data/image/transfer-syntax.ts';
import { testGray } from './craft.ts';

const dicomParser = createRequire(import.meta.url)('dicom-parser') as typeof DicomParser;
const gray = testGray(40, 30, 12, 9);

test('encodeDicom writes a Part 10 DX file that dicom-parser reads with the right tags', () => {
  const bytes = encodeDicom(gray, { seed: 42, view: 'AP', pixelSpacingMm: 0.7 });
  assert.ok(bytes.subarray(0, 128).every((b) => b === 0));
  assert.equal(new TextDecoder().decode(bytes.subarray(128, 132)), 'DICM');
  const ds = dicomParser.parseDicom(bytes);
  assert.deepEqual(ds.warnings, []);
  const metaLength = ds.uint32('x00020000')!;
  // Group length counts the meta elements after it: the data set's first element (0008,0008) starts right after.
  assert.equal(ds.elements['x00080008'].dataOffset, 132 + 12 + metaLength + 8);
  assert.equal(ds.string('x00020010'), TS.explicitLittle);
  assert.equal(ds.string('x00020002'), DX_FOR_PRESENTATION_SOP_CLASS);
  assert.equal(ds.string('x00080016'), DX_FOR_PRESENTATION_SOP_CLASS);
  assert.equal(ds.string('x00020003'), ds.string('x00080018'));
  assert.equal(ds.string('x00080060'), 'DX');
  assert.equal(ds.string('x00180015'), 'CHEST');
  assert.equal(ds.string('x00185101'), 'AP');
  assert.equal(ds.string('x00280004'), 'MONOCHROME2');
  assert.equal(ds.uint16('x00280002'), 1);
  assert.equal(ds.uint16('x00280010'), 30);
  assert.equal(ds.uint16('x00280011'), 40);
  assert.equal(ds.uint16('x00280100'), 16);
  assert.equal(ds.uint16('x00280101'), 12);
  assert.equal(ds.uint16('x00280102'), 11);
  assert.equal(ds.uint16('x00280103'), 0);
  assert.equal(ds.floatString('x00281050'), 2048);
  assert.equal(ds.floatString('x00281051'), 4096);
  assert.equal(ds.floatString('x00281052'), 0);
  assert.equal(ds.floatString('x00281053'), 1);
  assert.equal(ds.string('x00280030'), '0.7\\0.7');
  assert.equal(ds.elements['x7fe00010'].vr, 'OW');
  assert.equal(ds.elements['x7fe00010'].length, 40 * 30 * 2);
  for (const tag of Object.keys(ds.elements))
    assert.equal(ds.elements[tag].length % 2, 0, `${tag} has odd length`);
});

test('no PHI: patient name, ID, birth date, study date and accession are present but empty', () => {
  const ds = dicomParser.parseDicom(encodeDicom(gray, { seed: 1, view: 'PA' }));
  for (const tag of ['x00100010', 'x00100020', 'x00100030', 'x00080020', 'x00080050', 'x00080090']) {
    assert.ok(ds.elements[tag], `${tag} present (type 2)`);
    assert.equal(ds.elements[tag].length, 0, `${tag} empty`);
  }
  assert.equal(ds.elements['x00080080'], undefined, 'no institution');
  assert.equal(ds.string('x00120062'), 'YES');
});

test('UIDs are deterministic per seed, distinct per seed and role, valid 2.25 UIDs', () => {
  const uids = (seed: number) => {
    const ds = dicomParser.parseDicom(encodeDicom(gray, { seed, view: 'PA' }));
    return ['x00080018', 'x0020000d', 'x0020000e'].map((t) => ds.string(t)!);
  };
  const a = uids(7);
  assert.deepEqual(uids(7), a);
  assert.equal(new Set([...a, ...uids(8)]).size, 6);
  for (const uid of a) {
    assert.match(uid, /^2\.25\.[1-9][0-9]*$/);
    assert.ok(uid.length <= 64);
  }
  assert.deepEqual(encodeDicom(gray, { seed: 7, view: 'PA' }), encodeDicom(gray, { seed: 7, view: 'PA' }));
});

test('DICOM and 16-bit PNG exports decode to the same intensities, bit for bit', () => {
  for (const bits of [8, 10, 12, 16]) {
    const g = testGray(33, 21, bits, bits);
    const fromDicom = decodeImage(encodeDicom(g, { seed: bits, view: 'PA' }));
    const fromPng = decodeImage(encodePng16(g));
    assert.deepEqual(fromDicom.pixels, fromPng.pixels, `${bits} bits`);
    assert.deepEqual(fromDicom.pixels, grayToDecoded(g).pixels, `${bits} bits`);
    assert.equal(fromDicom.meta.modality, 'DX');
    assert.equal(fromDicom.meta.bitsStored, bits);
  }
});

test('8-bit PNG reads back in pngjs with the rounded values', () => {
  const viewer = PNG.sync.read(Buffer.from(encodePng8(gray)));
  assert.equal(viewer.width, 40);
  for (let i = 0; i < gray.data.length; i++) {
    assert.equal(viewer.data[i * 4], Math.round((gray.data[i] * 255) / 4095), `pixel ${i}`);
  }
});

test('16-bit PNG carries sBIT and shows correctly in a viewer that ignores it', () => {
  const bytes = encodePng16(gray);
  assert.equal(readPngHeader(bytes)?.significantBits, 12);
  assert.equal(readPngHeader(bytes)?.bitDepth, 16);
  const viewer = PNG.sync.read(Buffer.from(bytes));
  for (let i = 0; i < gray.data.length; i += 13) {
    assert.ok(Math.abs(viewer.data[i * 4] - (gray.data[i] / 4095) * 255) <= 0.51);
  }
});
