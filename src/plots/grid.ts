/**
 * A captioned image grid (the phantom grid of docs/data.md): tiles composed with sharp, captions
 * drawn as SVG text by resvg with the bundled font (sharp's own SVG input would need system fonts).
 * It stays raster: the SVG of its captions is not a picture of the grid on its own.
 */
import sharp from 'sharp';
import type { GrayImage } from '../data/types.ts';
import { FONT_FAMILY, svgToPng } from './render.ts';

export interface GridTile {
  image: GrayImage;
  /** First line bold (the tile's title), then one entry per line, wrapped to the tile's width. */
  caption: readonly string[];
}

export interface GridOptions {
  columns?: number;
  gap?: number;
  fontSize?: number;
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Greedy word wrap at `width` characters (DejaVu Sans averages ~0.55 em a glyph). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function toGray8(img: GrayImage): Buffer {
  const max = 2 ** img.bitsStored - 1;
  const out = Buffer.alloc(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = Math.round((255 * img.data[i]) / max);
  return out;
}

/** The grid as PNG bytes, and the SVG of its caption layer. */
export async function captionedGrid(
  tiles: readonly GridTile[],
  options: GridOptions = {},
): Promise<{ png: Uint8Array; captions: string; width: number; height: number }> {
  if (tiles.length === 0) throw new Error('captionedGrid: no tiles');
  const columns = options.columns ?? 4;
  const gap = options.gap ?? 8;
  const fontSize = options.fontSize ?? 11;
  const lineHeight = Math.round(fontSize * 1.3);
  const tileWidth = Math.max(...tiles.map((t) => t.image.width));
  const tileHeight = Math.max(...tiles.map((t) => t.image.height));
  const chars = Math.floor(tileWidth / (fontSize * 0.58));
  const wrapped = tiles.map((t) =>
    t.caption.flatMap((line, k) => wrap(line, chars).map((text) => ({ text, bold: k === 0 }))),
  );
  const captionHeight = Math.max(...wrapped.map((w) => w.length)) * lineHeight + 6;
  const cellHeight = tileHeight + captionHeight;
  const rows = Math.ceil(tiles.length / columns);
  const width = columns * (tileWidth + gap) + gap;
  const height = rows * (cellHeight + gap) + gap;
  const at = (i: number) => ({
    left: gap + (i % columns) * (tileWidth + gap),
    top: gap + Math.floor(i / columns) * (cellHeight + gap),
  });
  const text = wrapped.flatMap((lines, i) => {
    const { left, top } = at(i);
    return lines.map(
      (line, k) =>
        `<text x="${left}" y="${top + tileHeight + 4 + (k + 1) * lineHeight - 3}"${line.bold ? ' font-weight="bold"' : ''}>${escapeXml(line.text)}</text>`,
    );
  });
  const captions =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<g font-family="${FONT_FAMILY}" font-size="${fontSize}" fill="#111">${text.join('')}</g></svg>`;
  const overlay = await svgToPng(captions, { scale: 1 });
  const composites = await Promise.all(
    tiles.map(async (t, i) => ({
      input: await sharp(toGray8(t.image), {
        raw: { width: t.image.width, height: t.image.height, channels: 1 },
      })
        .png()
        .toBuffer(),
      ...at(i),
    })),
  );
  const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([...composites, { input: Buffer.from(overlay), left: 0, top: 0 }])
    .removeAlpha()
    .png()
    .toBuffer();
  return { png: new Uint8Array(png), captions, width, height };
}
