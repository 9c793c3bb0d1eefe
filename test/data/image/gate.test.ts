/**
 * The input gate on decoded images: refusals for non-radiograph modalities, non-chest body parts and
 * thumbnails; warnings for lateral views, colour, near-uniform and inverted-looking images; every
 * real film and phantom passes without a warning; the risk bump is monotone and documented.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  checkInput,
  DEFAULT_INPUT_GATE,
  decodeImage,
  grayToDecoded,
  ImageError,
  type InputGateConfig,
  imageInfo,
  warningRisk,
} from '../../../src/data/image/index.ts';
import { renderCase, sampleCase } from '../../../src/data/phantom/index.ts';
import {
  CR_IMAGE_INFO,
  corpusFile,
  flatPng,
  lateralCr,
  negativeCr,
  noisePng,
  REAL_DIR,
  tintedPng,
} from '../../fixtures/gate-images.ts';
import { REAL_CR_DICOM } from '../../fixtures/paths.ts';

const gate = (bytes: Uint8Array, config: InputGateConfig = DEFAULT_INPUT_GATE) =>
  checkInput(decodeImage(bytes), config);

function refusedWith(bytes: Uint8Array, code: string, message: RegExp, config?: InputGateConfig): void {
  assert.throws(
    () => gate(bytes, config),
    (e: unknown) => e instanceof ImageError && e.code === code && message.test(e.message),
  );
}

test('CT, MR, US, NM, secondary-capture and segmentation DICOMs are refused as NOT_A_RADIOGRAPH', () => {
  const cases: [string, string][] = [
    ['CT_small.dcm', 'CT'],
    ['693_J2KI.dcm', 'CT'],
    ['MR_small.dcm', 'MR'],
    ['emri_small_jpeg_ls_lossless.dcm', 'MR'],
    ['US1_J2KR.dcm', 'US'],
    ['JPGLosslessP14SV1_1s_1f_8b.dcm', 'US'],
    ['JPEG-LL.dcm', 'NM'],
    ['SC_rgb_jpeg_dcmtk.dcm', 'OT'],
    ['liver.dcm', 'SEG'],
  ];
  for (const [file, modality] of cases) {
    refusedWith(corpusFile(file), 'NOT_A_RADIOGRAPH', new RegExp(`Modality is ${modality}.*CR, DX`));
  }
});

test('the accepted modalities are configurable; a file without Modality is not refused for it', () => {
  const loose = { ...DEFAULT_INPUT_GATE, modalities: ['CR', 'DX', 'MR'], minSide: 1 };
  assert.deepEqual(gate(corpusFile('MR_small.dcm'), loose).includes('LATERAL_VIEW'), false);
  refusedWith(corpusFile('CT_small.dcm'), 'NOT_A_RADIOGRAPH', /Modality is CT.*CR, DX, MR/, loose);
  // JLSL_16_15_1_1F has no Modality and no BodyPartExamined: only its size (128²) can refuse it.
  refusedWith(corpusFile('JLSL_16_15_1_1F.dcm'), 'IMAGE_TOO_SMALL', /128×128.*at least 256/);
  assert.doesNotThrow(() => gate(corpusFile('JLSL_16_15_1_1F.dcm'), loose));
});

test('a CR radiograph of an extremity is refused as NOT_A_CHEST_IMAGE (lossless and lossy copies)', () => {
  for (const file of ['RG3_J2KR.dcm', 'RG3_J2KI.dcm']) {
    refusedWith(corpusFile(file), 'NOT_A_CHEST_IMAGE', /BodyPartExamined is EXTREMITY/);
  }
});

test('thumbnails are refused as IMAGE_TOO_SMALL at the default 256 px, with the size in the message', () => {
  for (const size of [8, 32, 64, 255]) {
    refusedWith(noisePng(size, size), 'IMAGE_TOO_SMALL', new RegExp(`${size}×${size} px.*at least 256 px`));
  }
  assert.doesNotThrow(() => gate(noisePng(1, 256)));
  refusedWith(noisePng(2, 300), 'IMAGE_TOO_SMALL', /at least 512/, { ...DEFAULT_INPUT_GATE, minSide: 512 });
});

test('every decodable real film passes the default gate without a warning', () => {
  const films = readdirSync(REAL_DIR).filter((f) => /\.(png|jpg|dcm)$/.test(f) && !f.includes('bad-COM'));
  assert.equal(films.length, 11);
  for (const film of films) {
    assert.deepEqual(gate(readFileSync(REAL_DIR + film)), [], film);
  }
});

test('phantoms (the training distribution) pass without a warning', () => {
  for (let seed = 0; seed < 40; seed++) {
    assert.deepEqual(
      checkInput(grayToDecoded(renderCase(sampleCase(seed), { size: 256 })), DEFAULT_INPUT_GATE),
      [],
    );
  }
});

test('warnings: lateral view, colour, near-uniform, inverted-looking', () => {
  assert.deepEqual(gate(lateralCr()), ['LATERAL_VIEW']);
  assert.deepEqual(gate(negativeCr()), ['INVERTED_LOOKING']);
  assert.deepEqual(gate(flatPng(300)), ['NEARLY_UNIFORM']);
  assert.deepEqual(gate(tintedPng()), ['COLOR_CONTENT']);
  // The colour tolerance is the knob: a loose one lets the tinted film through.
  assert.deepEqual(gate(tintedPng(), { ...DEFAULT_INPUT_GATE, maxChroma: 0.9 }), []);
});

test('imageInfo reports what was decoded, with coded DICOM values only', () => {
  assert.deepEqual(imageInfo(decodeImage(readFileSync(REAL_CR_DICOM))), CR_IMAGE_INFO);
  const emri = imageInfo(decodeImage(corpusFile('emri_small.dcm')));
  assert.equal(emri.frame, 1);
  assert.equal(emri.frames, 10);
  const png = imageInfo(decodeImage(noisePng(3, 256)));
  assert.deepEqual([png.format, png.modality, png.view, png.frames], ['png', null, null, 1]);
});

test('warningRisk: each warning multiplies P(right) by 0.4; none leaves the risk unchanged', () => {
  assert.equal(warningRisk(0.2, []), 0.2);
  assert.ok(Math.abs(warningRisk(0.2, ['LATERAL_VIEW']) - (1 - 0.8 * 0.4)) < 1e-12);
  assert.ok(Math.abs(warningRisk(0, ['COLOR_CONTENT', 'INVERTED_LOOKING']) - (1 - 0.16)) < 1e-12);
  assert.ok(warningRisk(0, ['NEARLY_UNIFORM']) > 0.5, 'one warning alone exceeds the default flag threshold');
  assert.equal(warningRisk(1, ['LATERAL_VIEW']), 1);
});
