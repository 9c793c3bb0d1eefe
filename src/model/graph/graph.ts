import { type DType, matchesDType, type TypedArray, typedArrayFrom } from './dtype.ts';
import { GraphError } from './errors.ts';
import { type Dim, formatShape, type Shape, staticSize } from './shape.ts';

/** A typed ONNX attribute value; the tag decides the AttributeProto field. */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: ConstantValue };

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  tensor: (value: ConstantValue): Attr => ({ kind: 'tensor', value }),
};

/** A static tensor value: initializers and tensor attributes. */
export interface ConstantValue {
  dtype: DType;
  shape: readonly number[];
  data: TypedArray;
}

/** What produces a tensor. 'parameter' = a trainable weight (initializer or fed input, see toBytes). */
export type TensorKind = 'input' | 'parameter' | 'initializer' | 'node';

/** A value in the graph. Build-time metadata only; values live in ORT. */
export class Tensor {
  readonly graph: Graph;
  public name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly kind: TensorKind;
  constructor(graph: Graph, name: string, dtype: DType, shape: Shape, kind: TensorKind) {
    this.graph = graph;
    this.name = name;
    this.dtype = dtype;
    this.shape = shape;
    this.kind = kind;
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

export interface Node {
  readonly op: string;
  readonly name: string;
  /** `undefined` marks an omitted optional input (serialised as ''). */
  readonly inputs: readonly (Tensor | undefined)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

export interface OutputSpec {
  dtype: DType;
  shape: Shape;
  /** Tensor name; default `<op>_<n>`. */
  name?: string;
}

/**
 * An ONNX graph under construction. Nodes are appended in topological order (an op can only consume
 * tensors that exist), which the autodiff walker relies on.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  /** Parameters and named/anonymous initializers, by tensor name. */
  readonly values = new Map<string, ConstantValue | undefined>();
  private readonly tensors = new Map<string, Tensor>();
  private readonly constCache = new Map<string, Tensor>();
  private counter = 0;

  readonly name: string;
  constructor(name = 'chexpo') {
    this.name = name;
  }

  /** A run-time input, fed by name. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = this.register(new Tensor(this, name, dtype, shape, 'input'));
    this.inputs.push(t);
    return t;
  }

  /**
   * A trainable weight. `value` may be given now or later via `setValue`; serialisation decides whether
   * it is baked in as an initializer or declared as a graph input (training feeds weights every step).
   */
  parameter(name: string, dtype: DType, shape: readonly number[], value?: TypedArray): Tensor {
    const t = this.register(new Tensor(this, name, dtype, shape, 'parameter'));
    this.values.set(name, undefined);
    if (value) this.setValue(name, value);
    return t;
  }

  /** A named non-trainable constant tensor (e.g. a causal mask), always serialised as an initializer. */
  initializer(name: string, dtype: DType, shape: readonly number[], data: TypedArray): Tensor {
    const t = this.register(new Tensor(this, name, dtype, shape, 'initializer'));
    this.values.set(name, undefined);
    this.setValue(name, data);
    return t;
  }

  /** An anonymous constant; small constants with equal contents are shared. Scalar when `shape` is omitted. */
  constant(dtype: DType, values: number | readonly number[] | TypedArray, shape?: readonly number[]): Tensor {
    const data =
      typeof values === 'number'
        ? typedArrayFrom(dtype, [values])
        : ArrayBuffer.isView(values)
          ? values
          : typedArrayFrom(dtype, values);
    const dims = shape ?? (typeof values === 'number' ? [] : [data.length]);
    const key =
      data.length <= 16
        ? `${dtype}|${dims.join(',')}|${Array.from(data as ArrayLike<unknown>).join(',')}`
        : '';
    const cached = key ? this.constCache.get(key) : undefined;
    if (cached) return cached;
    const t = this.initializer(this.freshName('const'), dtype, dims, data);
    if (key) this.constCache.set(key, t);
    return t;
  }

  /** Replaces the value of a parameter or initializer (weights are data; swapping them keeps the graph). */
  setValue(name: string, data: TypedArray): void {
    const t = this.tensors.get(name);
    if (!t || !this.values.has(name))
      throw new GraphError('GRAPH_BAD_ARGUMENT', `setValue: '${name}' is not a parameter or initializer`);
    if (!matchesDType(t.dtype, data))
      throw new GraphError(
        'GRAPH_DTYPE_MISMATCH',
        `setValue: '${name}' is ${t.dtype}, got ${data.constructor.name}`,
      );
    if (staticSize(t.shape) !== data.length)
      throw new GraphError(
        'GRAPH_SHAPE_MISMATCH',
        `setValue: '${name}' ${formatShape(t.shape)} needs ${staticSize(t.shape)} elements, got ${data.length}`,
      );
    this.values.set(name, { dtype: t.dtype, shape: t.shape as number[], data });
  }

  /** The build-time value of an initializer or parameter, if any (rules read constant exponents, axes…). */
  valueOf(t: Tensor): ConstantValue | undefined {
    return t.kind === 'initializer' || t.kind === 'parameter' ? this.values.get(t.name) : undefined;
  }

  get parameters(): Tensor[] {
    return [...this.tensors.values()].filter((t) => t.kind === 'parameter');
  }

  tensor(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new GraphError('GRAPH_BAD_ARGUMENT', `no tensor named '${name}'`);
    return t;
  }

  /** Marks `t` as a graph output, renaming it to `name` (an Identity is added only when renaming is impossible). */
  output(t: Tensor, name?: string): Tensor {
    this.own(t);
    let out = t;
    if (name && name !== t.name) {
      if (t.kind === 'node' && !this.outputs.includes(t)) {
        if (this.tensors.has(name)) throw new GraphError('GRAPH_DUPLICATE_NAME', `tensor '${name}' exists`);
        this.tensors.delete(t.name);
        t.name = name;
        this.tensors.set(name, t);
      } else out = this.node('Identity', [t], [{ dtype: t.dtype, shape: t.shape, name }])[0];
    }
    this.outputs.push(out);
    return out;
  }

  /** Appends one node; the caller states the outputs' dtype and shape (the op helpers infer them). */
  node(
    op: string,
    inputs: readonly (Tensor | undefined)[],
    outputs: readonly OutputSpec[],
    attrs: Record<string, Attr> = {},
  ): Tensor[] {
    for (const i of inputs) if (i) this.own(i);
    const outs = outputs.map((o) =>
      this.register(new Tensor(this, o.name ?? this.freshName(op), o.dtype, o.shape, 'node')),
    );
    this.nodes.push({ op, name: this.freshName(`n_${op}`), inputs, outputs: outs, attrs });
    return outs;
  }

  /** The node that produced `t`, if any. */
  producer(t: Tensor): Node | undefined {
    for (let i = this.nodes.length - 1; i >= 0; i--)
      if (this.nodes[i].outputs.includes(t)) return this.nodes[i];
    return undefined;
  }

  freshName(prefix: string): string {
    let name: string;
    do {
      this.counter += 1;
      name = `${prefix}_${this.counter}`;
    } while (this.tensors.has(name));
    return name;
  }

  private own(t: Tensor): void {
    if (t.graph !== this) throw new GraphError('GRAPH_FOREIGN_TENSOR', `${t.name} belongs to another graph`);
  }

  private register(t: Tensor): Tensor {
    if (this.tensors.has(t.name)) throw new GraphError('GRAPH_DUPLICATE_NAME', `tensor '${t.name}' exists`);
    this.tensors.set(t.name, t);
    return t;
  }
}

export type { Dim, Shape };
