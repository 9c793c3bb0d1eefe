import assert from 'node:assert/strict';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage, encodePng8, encodePng16, grayToDecoded } from '../../../src/data/image/index.ts';
import { maxAbsDiff, testGray } from './craft.ts';

function pngOf(width: number, height: number, rgba: number[], options: { colorType: 0 | 2 | 6 }): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  return new Uint8Array(PNG.sync.write(png, { colorType: options.colorType, inputColorType: 6 }));
}

test('16-bit grey PNG from encodePng16 decodes exactly to v / (2^bits − 1) for 8, 12 and 16 bits', () => {
  for (const bits of [8, 12, 16]) {
    const g = testGray(37, 23, bits, bits);
    const img = decodeImage(encodePng16(g));
    assert.equal(img.format, 'png');
    assert.equal(img.width, 37);
    assert.equal(img.height, 23);
    assert.equal(img.meta.bitsStored, bits);
    assert.deepEqual(img.pixels, grayToDecoded(g).pixels, `${bits} bits`);
  }
});

test('a 16-bit PNG without sBIT (from another tool) decodes as v / 65535', () => {
  const png = new PNG({
    width: 2,
    height: 1,
    bitDepth: 16,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(Uint16Array.of(0, 40000).buffer);
  const bytes = PNG.sync.write(png, { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  assert.deepEqual(Array.from(decodeImage(bytes).pixels), [0, Math.fround(40000 / 65535)]);
});

test('8-bit grey PNG decodes as v / 255 and is within half a level of the 12-bit source', () => {
  const g = testGray(20, 20, 12);
  const img = decodeImage(encodePng8(g));
  assert.equal(img.meta.bitsStored, 8);
  assert.ok(maxAbsDiff(img.pixels, grayToDecoded(g).pixels) <= 0.5 / 255 + 1e-6);
  const direct = pngOf(2, 1, [0, 0, 0, 255, 200, 200, 200, 255], { colorType: 0 });
  assert.deepEqual(Array.from(decodeImage(direct).pixels), [0, Math.fround(200 / 255)]);
});

test('RGB and RGBA PNG become Rec. 601 luma (alpha ignored); grey stored as RGB stays exact', () => {
  for (const colorType of [2, 6] as const) {
    // pngjs would blend a translucent pixel with white when dropping alpha for colour type 2.
    const rgba = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 90, 90, 90, colorType === 6 ? 128 : 255];
    const img = decodeImage(pngOf(4, 1, rgba, { colorType }));
    assert.equal(img.meta.photometric, 'COLOR');
    assert.ok(maxAbsDiff(img.pixels, [0.299, 0.587, 0.114, 90 / 255]) < 1e-6);
  }
});

test('JPEG encoded with jpeg-js decodes back within JPEG error', () => {
  const g = testGray(48, 40, 8);
  const rgba = new Uint8Array(48 * 40 * 4);
  for (let i = 0; i < g.data.length; i++) rgba.set([g.data[i], g.data[i], g.data[i], 255], i * 4);
  const bytes = new Uint8Array(jpeg.encode({ width: 48, height: 40, data: rgba }, 95).data);
  const img = decodeImage(bytes);
  assert.equal(img.format, 'jpeg');
  assert.equal(img.width, 48);
  assert.equal(img.height, 40);
  assert.ok(maxAbsDiff(img.pixels, grayToDecoded(g).pixels) < 10 / 255);
});
