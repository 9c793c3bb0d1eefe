import onnxProto from 'onnx-proto';
import { ONNX_DTYPE, type TypedArray } from './dtype.ts';
import { GraphError } from './errors.ts';
import type { Attr, ConstantValue, Graph, Tensor } from './graph.ts';

const { onnx } = onnxProto;

/** Default domain only (ai.onnx); opset 18 = reductions take axes as inputs, Scatter* reductions exist. */
export const OPSET = 18;
/** IR version 8 pairs with opsets 17 and 18 (onnx 1.12–1.13). */
export const IR_VERSION = 8;

export interface SerializeOptions {
  /**
   * 'initializers' bakes parameter values into the model (serving); 'inputs' declares parameters as
   * graph inputs fed on every run (training: one session, new weights each step, no re-serialising).
   */
  parametersAs?: 'initializers' | 'inputs';
  producer?: string;
  /**
   * Initializers stored outside the model, as ONNX external data: each named tensor's bytes live at
   * `ranges[name]` (absolute byte offset and length) in the file `location`, relative to the model file.
   * ORT then needs the model loaded from a path. Used to point serving graphs into weights.safetensors.
   */
  external?: { location: string; ranges: Record<string, { offset: number; length: number }> };
}

function rawBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, v: ConstantValue): onnxProto.onnx.ITensorProto {
  return { name, dims: [...v.shape], dataType: ONNX_DTYPE[v.dtype], rawData: rawBytes(v.data) };
}

function externalTensorProto(
  name: string,
  v: ConstantValue,
  location: string,
  range: { offset: number; length: number },
): onnxProto.onnx.ITensorProto {
  if (range.length !== v.data.byteLength)
    throw new GraphError(
      'GRAPH_BAD_EXTERNAL',
      `'${name}': external range of ${range.length} bytes, tensor has ${v.data.byteLength}`,
    );
  return {
    name,
    dims: [...v.shape],
    dataType: ONNX_DTYPE[v.dtype],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(range.offset) },
      { key: 'length', value: String(range.length) },
    ],
  };
}

function valueInfo(t: Tensor): onnxProto.onnx.IValueInfoProto {
  const dim = t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: t.name, type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim } } } };
}

function attributeProto(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto('', a.value) };
  }
}

/** The graph as an onnx.ModelProto message (only the tensors that the outputs need are kept). */
export function toModelProto(graph: Graph, options: SerializeOptions = {}): onnxProto.onnx.ModelProto {
  const asInputs = options.parametersAs === 'inputs';
  const used = new Set<string>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) used.add(i.name);
  for (const o of graph.outputs) used.add(o.name);

  const initializer: onnxProto.onnx.ITensorProto[] = [];
  const inputs = [...graph.inputs];
  for (const [name, value] of graph.values) {
    const t = graph.tensor(name);
    if (!used.has(name)) continue;
    if (t.kind === 'parameter' && asInputs) inputs.push(t);
    else if (!value)
      throw new GraphError(
        'GRAPH_MISSING_VALUE',
        `'${name}' has no value; set it or serialise with parametersAs: 'inputs'`,
      );
    else if (t.kind === 'parameter' && options.external?.ranges[name])
      initializer.push(
        externalTensorProto(name, value, options.external.location, options.external.ranges[name]),
      );
    else initializer.push(tensorProto(name, value));
  }

  const node = graph.nodes.map((n) => ({
    opType: n.op,
    name: n.name,
    input: n.inputs.map((i) => i?.name ?? ''),
    output: n.outputs.map((o) => o.name),
    attribute: Object.entries(n.attrs).map(([k, a]) => attributeProto(k, a)),
  }));

  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: options.producer ?? 'chexpo',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graph.name,
      node,
      initializer,
      input: inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
}

/** Serialised ONNX model bytes, ready for `InferenceSession.create(bytes)`. */
export function toBytes(graph: Graph, options: SerializeOptions = {}): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(graph, options)).finish();
}
