/**
 * Advance widths of a TrueType font (cmap format 4 + hmtx), so Vega lays out titles, legends and
 * labels for the font resvg draws with. Without a canvas Vega guesses 0.8 em a character, which
 * leaves long titles' charts padded far to the right and truncates labels that would fit.
 */
import { readFileSync } from 'node:fs';

export type Advance = (codePoint: number) => number;

/** Advance width in em of every BMP code point the font maps; unmapped ones get the .notdef width. */
export function readAdvances(path: string): Advance {
  const b = readFileSync(path);
  const tables = new Map<string, number>();
  for (let i = 0, n = b.readUInt16BE(4); i < n; i++) {
    const at = 12 + 16 * i;
    tables.set(b.toString('latin1', at, at + 4), b.readUInt32BE(at + 8));
  }
  const table = (tag: string): number => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`${path}: no ${tag} table`);
    return at;
  };
  const unitsPerEm = b.readUInt16BE(table('head') + 18);
  const metrics = b.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOf = (glyph: number): number =>
    b.readUInt16BE(hmtx + 4 * Math.min(glyph, metrics - 1)) / unitsPerEm;

  const cmap = table('cmap');
  let sub = -1;
  for (let i = 0, n = b.readUInt16BE(cmap + 2); i < n; i++) {
    const at = cmap + 4 + 8 * i;
    const platform = b.readUInt16BE(at);
    const encoding = b.readUInt16BE(at + 2);
    const offset = cmap + b.readUInt32BE(at + 4);
    if (
      b.readUInt16BE(offset) === 4 &&
      (platform === 3 || platform === 0) &&
      (encoding === 1 || platform === 0)
    )
      sub = offset;
  }
  if (sub < 0) throw new Error(`${path}: no Unicode BMP (format 4) cmap`);
  const segments = b.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segments + 2;
  const deltas = starts + 2 * segments;
  const rangeOffsets = deltas + 2 * segments;
  const widths = new Map<number, number>();
  for (let s = 0; s < segments; s++) {
    const end = b.readUInt16BE(ends + 2 * s);
    const start = b.readUInt16BE(starts + 2 * s);
    const delta = b.readInt16BE(deltas + 2 * s);
    const rangeAt = rangeOffsets + 2 * s;
    const range = b.readUInt16BE(rangeAt);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let glyph: number;
      if (range === 0) glyph = (c + delta) & 0xffff;
      else {
        const g = b.readUInt16BE(rangeAt + range + 2 * (c - start));
        glyph = g === 0 ? 0 : (g + delta) & 0xffff;
      }
      if (glyph !== 0) widths.set(c, advanceOf(glyph));
    }
  }
  const notdef = advanceOf(0);
  return (codePoint) => widths.get(codePoint) ?? notdef;
}

/** Width in px of `text` at `fontSize`. */
export function textWidth(advance: Advance, text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) em += advance(ch.codePointAt(0)!);
  return em * fontSize;
}
