/** Pixel measurements in patient coordinates, shared by the phantom tests. */
import { rasterFor } from '../../../src/data/phantom/render.ts';
import type { GrayImage, PhantomCase } from '../../../src/data/types.ts';

/** Image value at a patient point (mm), nearest pixel. */
export function sampler(c: PhantomCase, img: GrayImage): (x: number, y: number) => number {
  const raster = rasterFor(c, img.width);
  return (x, y) => {
    const p = raster.toPixel(x, y);
    const px = Math.min(img.width - 1, Math.max(0, Math.round(p.px)));
    const py = Math.min(img.height - 1, Math.max(0, Math.round(p.py)));
    return img.data[py * img.width + px];
  };
}

/** Mean image value over a patient-space box sampled every `step` mm. */
export function meanOver(
  at: (x: number, y: number) => number,
  box: { x0: number; y0: number; x1: number; y1: number },
  step = 1,
): number {
  let sum = 0;
  let count = 0;
  for (let y = box.y0; y <= box.y1; y += step)
    for (let x = box.x0; x <= box.x1; x += step) {
      sum += at(x, y);
      count++;
    }
  return sum / count;
}

/** A case of this seed's patient with every finding absent (then edited in by tests). */
export function present(c: PhantomCase): string[] {
  return c.findings.filter((f) => f.present).map((f) => f.name);
}
