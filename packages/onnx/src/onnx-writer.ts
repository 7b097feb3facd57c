import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

const { ModelProto } = (onnxProto as unknown as { onnx: typeof onnx }).onnx;

/** A tensor to write: raw little-endian bytes, or values in one of ONNX's typed fields. */
export interface TensorSpec {
  name: string;
  /** ONNX element type number (1..26). */
  dataType: number;
  dims: number[];
  raw?: Uint8Array;
  typed?: { field: 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData'; values: (number | bigint | Uint8Array)[] };
  /** Put the raw bytes in the external-data sidecar instead of the model. */
  external?: boolean;
}

/** An attribute value: numbers, strings, lists, a tensor or a subgraph. */
export type AttributeSpec = number | string | number[] | string[] | { tensor: TensorSpec } | { graph: GraphSpec } | { float: number } | { floats: number[] };

export interface NodeSpec {
  opType: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeSpec>;
  domain?: string;
}

export interface ValueSpec {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export interface GraphSpec {
  name?: string;
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
  inputs?: ValueSpec[];
  outputs?: ValueSpec[];
}

export interface ModelSpec extends GraphSpec {
  irVersion?: number;
  opset?: number;
  /** File name (relative to the model) of the external-data sidecar for tensors marked `external`. */
  externalDataFile?: string;
}

/** A written model and, when some tensors are external, the sidecar's bytes. */
export interface WrittenModel {
  model: Uint8Array;
  externalData?: Uint8Array;
}

/**
 * Writes a small ONNX model (for tests and benchmarks): nodes, initializers with raw, typed or external data,
 * Constant nodes, subgraphs. Element types newer than onnx-proto's schema are written by number.
 *
 * @example
 * ```ts
 * const { model } = writeOnnxModel({ nodes: [{ opType: 'Identity', inputs: ['w'], outputs: ['y'] }],
 *   initializers: [{ name: 'w', dataType: 1, dims: [2], raw: new Uint8Array(new Float32Array([1, 2]).buffer) }],
 *   outputs: [{ name: 'y', elemType: 1, dims: [2] }] });
 * ```
 */
export function writeOnnxModel(spec: ModelSpec): WrittenModel {
  const sidecar: Uint8Array[] = [];
  let offset = 0;
  const externalFile = spec.externalDataFile ?? 'model.onnx.data';
  const tensor = (t: TensorSpec): onnx.ITensorProto => {
    const p: Record<string, unknown> = { name: t.name, dataType: t.dataType, dims: t.dims };
    if (t.typed) p[t.typed.field] = t.typed.values.map((v) => (typeof v === 'bigint' ? v.toString() : v));
    if (t.raw && t.external) {
      const pad = (64 - (offset % 64)) % 64;
      if (pad) sidecar.push(new Uint8Array(pad));
      offset += pad;
      p.dataLocation = 1;
      p.externalData = [
        { key: 'location', value: externalFile },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(t.raw.length) },
      ];
      sidecar.push(t.raw);
      offset += t.raw.length;
    } else if (t.raw) p.rawData = t.raw;
    return p as onnx.ITensorProto;
  };
  const value = (v: ValueSpec): onnx.IValueInfoProto => ({
    name: v.name,
    type: { tensorType: { elemType: v.elemType, shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const attribute = (name: string, a: AttributeSpec): onnx.IAttributeProto => {
    if (typeof a === 'number') return Number.isInteger(a) ? { name, type: 2, i: a } : { name, type: 1, f: a };
    if (typeof a === 'string') return { name, type: 3, s: new TextEncoder().encode(a) };
    if (Array.isArray(a)) {
      if (a.every((x) => typeof x === 'string')) return { name, type: 8, strings: (a as string[]).map((s) => new TextEncoder().encode(s)) };
      return (a as number[]).every(Number.isInteger) ? { name, type: 7, ints: a as number[] } : { name, type: 6, floats: a as number[] };
    }
    if ('tensor' in a) return { name, type: 4, t: tensor(a.tensor) };
    if ('graph' in a) return { name, type: 5, g: graph(a.graph) };
    if ('float' in a) return { name, type: 1, f: a.float };
    return { name, type: 6, floats: a.floats };
  };
  const graph = (g: GraphSpec): onnx.IGraphProto => ({
    name: g.name ?? 'graph',
    node: g.nodes.map((n, i) => ({
      opType: n.opType,
      name: n.name ?? `${n.opType}_${i}`,
      input: n.inputs,
      output: n.outputs,
      domain: n.domain ?? '',
      attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
    })),
    initializer: (g.initializers ?? []).map(tensor),
    input: (g.inputs ?? []).map(value),
    output: (g.outputs ?? []).map(value),
  });
  const proto = ModelProto.create({
    irVersion: spec.irVersion ?? 10,
    producerName: 'trt-refit',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: graph(spec),
  });
  const model = ModelProto.encode(proto).finish();
  if (!sidecar.length) return { model };
  const externalData = new Uint8Array(offset);
  let o = 0;
  for (const s of sidecar) {
    externalData.set(s, o);
    o += s.length;
  }
  return { model, externalData };
}
