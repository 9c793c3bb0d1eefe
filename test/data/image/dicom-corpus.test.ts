/**
 * The pydicom test corpus in ../shared/fixtures/dicom-corpus (SOURCES.md lists each file's transfer
 * syntax, modality, photometric, size, bits and frames): every file whose syntax is supported decodes
 * to the size and layout its header declares, lossless files decode to exactly the pixels of their
 * uncompressed twin (every frame), 12-bit JPEG Extended matches pydicom's reference pixels.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeImage, SUPPORTED_TRANSFER_SYNTAXES } from '../../../src/data/image/index.ts';
import { decodeJpeg12 } from '../../../src/data/image/jpeg12.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/fixtures/dicom-corpus/', import.meta.url));
const REAL = fileURLToPath(new URL('../../../../shared/fixtures/real/', import.meta.url));
const bytesOf = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
const decode = (file: string, frame?: number) =>
  decodeImage(bytesOf(CORPUS + file), undefined, frame === undefined ? {} : { frame });

/** file → [transfer syntax, photometric, columns, rows, bits stored, frames], from SOURCES.md. */
const DECODABLE: Record<string, [string, string, number, number, number, number]> = {
  '693_J2KI.dcm': ['1.2.840.10008.1.2.4.91', 'MONOCHROME2', 512, 512, 14, 1],
  'CT_small.dcm': ['1.2.840.10008.1.2.1', 'MONOCHROME2', 128, 128, 16, 1],
  'HTJ2K_08_RGB.dcm': ['1.2.840.10008.1.2.4.203', 'RGB', 640, 480, 8, 1],
  'JLSL_16_15_1_1F.dcm': ['1.2.840.10008.1.2.4.80', 'MONOCHROME2', 128, 128, 15, 1],
  'JPEG-LL.dcm': ['1.2.840.10008.1.2.4.70', 'MONOCHROME2', 256, 1024, 16, 1],
  'JPEG-lossy.dcm': ['1.2.840.10008.1.2.4.51', 'MONOCHROME2', 256, 1024, 12, 1],
  'JPGExtended.dcm': ['1.2.840.10008.1.2.4.51', 'MONOCHROME2', 256, 1024, 12, 1],
  'JPEG2000.dcm': ['1.2.840.10008.1.2.4.91', 'MONOCHROME2', 256, 1024, 16, 1],
  'JPEGLSNearLossless_16.dcm': ['1.2.840.10008.1.2.4.81', 'MONOCHROME2', 10, 50, 16, 1],
  'JPGLosslessP14SV1_1s_1f_8b.dcm': ['1.2.840.10008.1.2.4.70', 'MONOCHROME2', 1024, 768, 8, 1],
  'MR_small.dcm': ['1.2.840.10008.1.2.1', 'MONOCHROME2', 64, 64, 16, 1],
  'MR_small_RLE.dcm': ['1.2.840.10008.1.2.5', 'MONOCHROME2', 64, 64, 16, 1],
  'MR_small_jp2klossless.dcm': ['1.2.840.10008.1.2.4.90', 'MONOCHROME2', 64, 64, 16, 1],
  'MR_small_jpeg_ls_lossless.dcm': ['1.2.840.10008.1.2.4.80', 'MONOCHROME2', 64, 64, 16, 1],
  'RG3_J2KI.dcm': ['1.2.840.10008.1.2.4.91', 'MONOCHROME1', 1760, 1760, 10, 1],
  'RG3_J2KR.dcm': ['1.2.840.10008.1.2.4.90', 'MONOCHROME1', 1760, 1760, 10, 1],
  'SC_rgb_jpeg_dcmtk.dcm': ['1.2.840.10008.1.2.4.50', 'YBR_FULL', 100, 100, 8, 1],
  'US1_J2KR.dcm': ['1.2.840.10008.1.2.4.90', 'YBR_RCT', 640, 480, 8, 1],
  'emri_small.dcm': ['1.2.840.10008.1.2.1', 'MONOCHROME2', 64, 64, 12, 10],
  'emri_small_jpeg_2k_lossless.dcm': ['1.2.840.10008.1.2.4.90', 'MONOCHROME2', 64, 64, 12, 10],
  'emri_small_jpeg_ls_lossless.dcm': ['1.2.840.10008.1.2.4.80', 'MONOCHROME2', 64, 64, 12, 10],
  'liver.dcm': ['1.2.840.10008.1.2.1', 'MONOCHROME2', 512, 512, 1, 3],
  'liver_deflate.dcm': ['1.2.840.10008.1.2.8.1', 'MONOCHROME2', 512, 512, 1, 3],
};

function spread(pixels: Float32Array): { min: number; max: number; mean: number } {
  let min = 1;
  let max = 0;
  let sum = 0;
  for (const v of pixels) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { min, max, mean: sum / pixels.length };
}

test('every corpus file with a supported transfer syntax decodes to its declared size and layout', () => {
  for (const [file, [syntax, photometric, width, height, bits, frames]] of Object.entries(DECODABLE)) {
    assert.ok(SUPPORTED_TRANSFER_SYNTAXES.includes(syntax), `${syntax} is listed as supported`);
    const image = decode(file);
    assert.equal(image.width, width, file);
    assert.equal(image.height, height, file);
    assert.equal(image.pixels.length, width * height, file);
    assert.equal(image.meta.transferSyntax, syntax, file);
    assert.equal(image.meta.photometric, photometric, file);
    assert.equal(image.meta.bitsStored, bits, file);
    assert.equal(image.meta.frames, frames, file);
    assert.equal(image.meta.frame, 1, `${file}: the first frame is the documented default`);
    const { min, max, mean } = spread(image.pixels);
    assert.ok(min >= 0 && max <= 1, `${file}: intensities in [0, 1]`);
    // Not a blank or constant decode: real content spans a range.
    assert.ok(
      max - min > 0.5 && mean > 0.01 && mean < 0.99,
      `${file}: content (${min}..${max}, mean ${mean})`,
    );
  }
});

test('colour files carry their colour content; grey ones none', () => {
  for (const file of ['HTJ2K_08_RGB.dcm', 'SC_rgb_jpeg_dcmtk.dcm']) {
    assert.ok((decode(file).meta.chroma ?? 0) > 0.1, file);
  }
  for (const file of ['MR_small.dcm', 'RG3_J2KR.dcm', 'JPEG-LL.dcm'])
    assert.equal(decode(file).meta.chroma, 0, file);
});

test('lossless files decode to exactly the pixels of their uncompressed twin, every frame', () => {
  const twins: [string, string[], number][] = [
    ['MR_small.dcm', ['MR_small_RLE.dcm', 'MR_small_jp2klossless.dcm', 'MR_small_jpeg_ls_lossless.dcm'], 1],
    ['emri_small.dcm', ['emri_small_jpeg_2k_lossless.dcm', 'emri_small_jpeg_ls_lossless.dcm'], 10],
    ['liver.dcm', ['liver_deflate.dcm'], 3],
  ];
  for (const [reference, compressed, frames] of twins) {
    for (let frame = 0; frame < frames; frame++) {
      const expected = decode(reference, frame);
      assert.equal(expected.meta.frame, frame + 1);
      for (const file of compressed) {
        const got = decode(file, frame);
        assert.equal(got.meta.frame, frame + 1);
        assert.deepEqual(got.pixels, expected.pixels, `${file} frame ${frame + 1} equals ${reference}`);
      }
    }
  }
});

test('multi-frame: frames differ, and an absent frame is IMAGE_UNDECODABLE', () => {
  const first = decode('emri_small.dcm', 0).pixels;
  const sixth = decode('emri_small.dcm', 5).pixels;
  assert.notDeepEqual(first, sixth);
  assert.deepEqual(decode('emri_small.dcm').pixels, first);
  assert.throws(() => decode('emri_small.dcm', 10), { name: 'ImageError', code: 'IMAGE_UNDECODABLE' });
});

test('lossy JPEG 2000 stays within a few grey levels of its lossless twin (RG3 CR film)', () => {
  const lossless = decode('RG3_J2KR.dcm').pixels;
  const lossy = decode('RG3_J2KI.dcm').pixels;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < lossless.length; i++) {
    const d = Math.abs(lossless[i] - lossy[i]);
    sum += d;
    max = Math.max(max, d);
  }
  assert.ok(max > 0, 'lossy differs somewhere');
  assert.ok(sum / lossless.length < 0.002 && max < 0.02, `mean ${sum / lossless.length}, max ${max}`);
});

/** The codestream of a single-frame encapsulated file: from its first SOI marker on. */
function codestream(file: string): Uint8Array {
  const bytes = bytesOf(CORPUS + file);
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd8 && bytes[i + 2] === 0xff) return bytes.subarray(i);
  }
  throw new Error(`no JPEG codestream in ${file}`);
}

test('12-bit JPEG Extended decodes: pydicom reference pixels within 1 LSB, both copies alike, close to the lossless twin', () => {
  // pydicom's pixel reference for JPGExtended.dcm (and its fixed twin JPEG-lossy.dcm): arr[420, 140] == 244,
  // arr[230, 120] == 95; lossy IDCTs may differ by one level (ISO 10918-1 accuracy), so ±1.
  const frames = ['JPGExtended.dcm', 'JPEG-lossy.dcm'].map((file) => decodeJpeg12(codestream(file)));
  for (const frame of frames) {
    assert.deepEqual([frame.width, frame.height, frame.precision], [256, 1024, 12]);
    assert.ok(Math.abs(frame.samples[420 * 256 + 140] - 244) <= 1, `${frame.samples[420 * 256 + 140]}`);
    assert.ok(Math.abs(frame.samples[230 * 256 + 120] - 95) <= 1, `${frame.samples[230 * 256 + 120]}`);
  }
  assert.deepEqual(frames[0].samples, frames[1].samples);
  for (const file of ['JPGExtended.dcm', 'JPEG-lossy.dcm']) {
    const image = decode(file);
    assert.equal(image.meta.bitsStored, 12);
    // The same bone scan losslessly (JPEG-LL.dcm): the lossy decode follows it closely.
    assert.ok(correlation(image.pixels, decode('JPEG-LL.dcm').pixels) > 0.98, file);
  }
});

test('a corrupt 12-bit JPEG Extended codestream is IMAGE_UNDECODABLE', () => {
  const bytes = codestream('JPGExtended.dcm');
  const broken = bytes.slice(0, 2000);
  for (let i = 700; i < broken.length; i += 7) broken[i] ^= 0x5a;
  assert.throws(() => decodeJpeg12(broken.subarray(0, 300)), {
    name: 'ImageError',
    code: 'IMAGE_UNDECODABLE',
  });
});

function correlation(a: Float32Array, b: Float32Array): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i] / a.length;
    mb += b[i] / b.length;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test('real DX film in JPEG 2000 lossless decodes (2000×2128, 12-bit MONOCHROME1); its broken twin is a 400', () => {
  const film = decodeImage(bytesOf(`${REAL}pydicom-issue966_DX_PA_unlabelled_mono1-12bit_j2k-lossless.dcm`));
  assert.equal(film.width, 2000);
  assert.equal(film.height, 2128);
  assert.equal(film.meta.bitsStored, 12);
  assert.equal(film.meta.photometric, 'MONOCHROME1');
  assert.equal(film.meta.modality, 'DX');
  assert.equal(film.meta.bodyPart, 'CHEST');
  assert.throws(
    () =>
      decodeImage(
        bytesOf(`${REAL}pydicom-issue966_DX_PA_unlabelled_mono1-12bit_j2k-lossless_bad-COM-marker.dcm`),
      ),
    { name: 'ImageError', code: 'IMAGE_UNDECODABLE' },
  );
});
