/**
 * The one preprocessing function of training and serving (parity by construction):
 * letterbox to a square → resize → normalise with fixed constants.
 *
 * Letterbox rather than centre-crop: chest radiographs are near square, and padding keeps the
 * whole thorax (costophrenic angles and apices are where small findings live). Padding is 0, the
 * display value of air/background (black).
 */
import type { GrayImage } from '../types.ts';
import type { DecodedImage } from './decoded-image.ts';
import { assertGrayImage, maxValueOf } from './gray-scale.ts';

/**
 * Fixed normalisation constants: input = (intensity − MEAN) / STD. Not per-image statistics, so
 * an image with unusual intensities stays unusual after preprocessing and shows up downstream.
 */
export const MODEL_INPUT_MEAN = 0.5;
export const MODEL_INPUT_STD = 0.25;

export type IntensityImage = Pick<DecodedImage, 'width' | 'height' | 'pixels'>;

/**
 * Maps a phantom GrayImage to display intensities exactly as decoding its 16-bit PNG or DICOM
 * export does: value / (2^bitsStored − 1), in float32.
 */
export function grayToDecoded(img: GrayImage): DecodedImage {
  assertGrayImage(img);
  const scale = maxValueOf(img.bitsStored);
  const pixels = new Float32Array(img.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] / scale;
  return {
    width: img.width,
    height: img.height,
    pixels,
    format: 'png',
    meta: { photometric: 'MONOCHROME2', bitsStored: img.bitsStored },
  };
}

/**
 * Returns a (size × size) row-major Float32Array, i.e. one (1, 1, size, size) NCHW channel.
 * Resizing is separable: exact area averaging (box filter) when shrinking, bilinear with
 * half-pixel centres when enlarging; both see the padded square, so padding blends like any pixel.
 */
export function toModelInput(img: IntensityImage, size: number): Float32Array {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`model input size must be a positive integer`);
  const { width, height, pixels } = img;
  if (pixels.length !== width * height) {
    throw new RangeError(`image has ${pixels.length} pixels for ${width}×${height}`);
  }
  const side = Math.max(width, height);
  const xTaps = resampleTaps(side, size, Math.floor((side - width) / 2), width);
  const yTaps = resampleTaps(side, size, Math.floor((side - height) / 2), height);

  // Horizontal pass: (height, width) → (height, size).
  const rowsResized = new Float32Array(height * size);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < size; x++) {
      const taps = xTaps[x];
      let sum = 0;
      for (let t = 0; t < taps.index.length; t++) sum += taps.weight[t] * pixels[row + taps.index[t]];
      rowsResized[y * size + x] = sum;
    }
  }
  // Vertical pass: (height, size) → (size, size), then normalise.
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const taps = yTaps[y];
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let t = 0; t < taps.index.length; t++)
        sum += taps.weight[t] * rowsResized[taps.index[t] * size + x];
      out[y * size + x] = (sum - MODEL_INPUT_MEAN) / MODEL_INPUT_STD;
    }
  }
  return out;
}

interface Taps {
  /** Source indices inside the image (padding taps are dropped: they contribute 0). */
  index: number[];
  weight: number[];
}

/**
 * Taps of each output sample along one axis: the padded axis has `side` samples, the image
 * occupies [offset, offset + length).
 */
function resampleTaps(side: number, size: number, offset: number, length: number): Taps[] {
  const scale = side / size;
  const taps: Taps[] = [];
  for (let o = 0; o < size; o++) {
    const t: Taps = { index: [], weight: [] };
    const add = (padded: number, weight: number): void => {
      const source = padded - offset;
      if (weight > 0 && source >= 0 && source < length) {
        t.index.push(source);
        t.weight.push(weight);
      }
    };
    if (scale >= 1) {
      // Output sample o covers [o·scale, (o+1)·scale) of the padded axis; weight = overlap / scale.
      const start = o * scale;
      const end = start + scale;
      for (let p = Math.floor(start); p < Math.ceil(end); p++) {
        add(p, (Math.min(end, p + 1) - Math.max(start, p)) / scale);
      }
    } else {
      const centre = Math.min(side - 1, Math.max(0, (o + 0.5) * scale - 0.5));
      const left = Math.floor(centre);
      const frac = centre - left;
      add(left, 1 - frac);
      if (left + 1 < side) add(left + 1, frac);
    }
    taps.push(t);
  }
  return taps;
}
