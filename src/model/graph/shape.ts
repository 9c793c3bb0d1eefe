import { GraphError } from './errors.ts';

/**
 * One dimension: a number when known at build time, a name when symbolic ('batch', 'seq', or a product
 * such as 'batch*seq'). Convention: symbolic dims are never 1 at run time — a size-1 axis must be a
 * static 1 so broadcasting (and therefore un-broadcasting in autodiff) is decided at build time.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

let unknownCounter = 0;

/** A fresh symbolic dim for a size the builder cannot express (e.g. a data-dependent slice). */
export function unknownDim(): string {
  unknownCounter += 1;
  return `unk${unknownCounter}`;
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Number of elements when every dim is static, else undefined. */
export function staticSize(shape: Shape): number | undefined {
  return isStatic(shape) ? shape.reduce((a, b) => a * b, 1) : undefined;
}

/** Normalises a possibly negative axis for a tensor of rank `rank`. */
export function normAxis(axis: number, rank: number, op = 'op'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw new GraphError('GRAPH_BAD_ARGUMENT', `${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy-style broadcast of several shapes (right-aligned). */
export function broadcastShapes(op: string, ...shapes: Shape[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1 || d === dim) continue;
      if (dim === 1) dim = d;
      else if (typeof dim === 'number' && typeof d === 'number')
        throw new GraphError(
          'GRAPH_SHAPE_MISMATCH',
          `${op}: cannot broadcast ${shapes.map(formatShape).join(' with ')}`,
        );
      else if (typeof dim === 'string' && typeof d === 'number') dim = d;
      // Two different symbols: assumed equal at run time; keep the first.
    }
    out.push(dim);
  }
  return out;
}

/** A product of dims as a static coefficient times sorted symbol factors. */
interface DimProduct {
  coef: number;
  syms: string[];
}

function productOf(dims: Shape): DimProduct {
  const p: DimProduct = { coef: 1, syms: [] };
  for (const d of dims) {
    if (typeof d === 'number') p.coef *= d;
    else
      for (const part of d.split('*')) {
        const n = Number(part);
        if (Number.isFinite(n) && part.trim() !== '') p.coef *= n;
        else p.syms.push(part);
      }
  }
  p.syms.sort();
  return p;
}

function renderProduct(p: DimProduct): Dim {
  if (p.syms.length === 0) return p.coef;
  return [...(p.coef === 1 ? [] : [String(p.coef)]), ...p.syms].join('*');
}

/** The product of `dims` as one Dim ('batch*seq' when symbolic). */
export function multiplyDims(dims: Shape): Dim {
  return renderProduct(productOf(dims));
}

/** total / divisor when it can be expressed exactly, else a fresh unknown dim. */
export function divideDims(total: Shape, divisor: Shape): Dim {
  const t = productOf(total);
  const d = productOf(divisor);
  const syms = [...t.syms];
  for (const s of d.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return unknownDim();
    syms.splice(i, 1);
  }
  if (d.coef === 0 || t.coef % d.coef !== 0) return unknownDim();
  return renderProduct({ coef: t.coef / d.coef, syms });
}

/** Sum of dims: static when all are, else a fresh unknown dim. */
export function addDims(dims: Shape): Dim {
  if (dims.every((d) => typeof d === 'number')) return (dims as number[]).reduce((a, b) => a + b, 0);
  return unknownDim();
}

/** Output shape of ONNX Reshape with a constant target (0 copies the input dim, -1 is inferred). */
export function reshapeShape(input: Shape, target: readonly number[]): Dim[] {
  const out: Dim[] = target.map((t, i) => (t === 0 ? input[i] : t));
  const inferred = out.indexOf(-1);
  if (inferred >= 0)
    out[inferred] = divideDims(
      input,
      out.filter((_, i) => i !== inferred),
    );
  const a = staticSize(input);
  const b = staticSize(out);
  if (a !== undefined && b !== undefined && a !== b)
    throw new GraphError(
      'GRAPH_SHAPE_MISMATCH',
      `Reshape: ${formatShape(input)} has ${a} elements, target ${formatShape(out)} has ${b}`,
    );
  return out;
}
