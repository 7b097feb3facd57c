import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

const { ModelProto } = (onnxProto as unknown as { onnx: typeof onnx }).onnx;

/** Names of ONNX `TensorProto`'s typed value fields. */
export type TypedField = 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData';

/** A tensor to write: raw little-endian bytes, values in one of ONNX's typed fields, or external data. */
export interface TensorSpec {
  /** The tensor's name (for an initializer, the weight name TensorRT's parser uses). */
  name: string;
  /** ONNX element type number (1..26); types newer than onnx-proto's schema are written by number. */
  dataType: number;
  /** Dimensions; a bigint writes an int64 beyond 2^53 exactly (for tests of readers). */
  dims: (number | bigint)[];
  /** `raw_data`: little-endian element bytes (sub-byte types packed). */
  raw?: Uint8Array;
  /** Values in a typed field (`int32_data` holds bit patterns for FLOAT16/BFLOAT16/FLOAT8 and packed bytes for sub-byte types). */
  typed?: { field: TypedField; values: (number | bigint | Uint8Array)[] };
  /** Put the raw bytes in the external-data sidecar (64-byte aligned) instead of the model. */
  external?: boolean;
  /**
   * Mark the tensor as external with exactly these `external_data` entries, writing no data anywhere (for tests of
   * readers: other files, odd keys, forged offsets).
   */
  externalData?: { key: string; value: string }[];
}

/** A sparse tensor (`SparseTensorProto`): the non-zero values, their indices and the dense shape. */
export interface SparseTensorSpec {
  values: TensorSpec;
  indices: TensorSpec;
  dims: number[];
}

/**
 * An attribute value. Plain numbers are INT when integral and FLOAT otherwise; `{ float }` / `{ floats }` force
 * FLOAT(S), `{ int }` / `{ ints }` INT(S) (bigints for values beyond 2^53); arrays of strings are STRINGS.
 */
export type AttributeSpec =
  | number
  | string
  | number[]
  | string[]
  | { tensor: TensorSpec }
  | { graph: GraphSpec }
  | { graphs: GraphSpec[] }
  | { float: number }
  | { floats: number[] }
  | { int: number | bigint }
  | { ints: (number | bigint)[] }
  | { sparseTensor: SparseTensorSpec };

/** One node. */
export interface NodeSpec {
  opType: string;
  /** Default: `<opType>_<index>`; an empty string writes a node without a name. */
  name?: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeSpec>;
  /** Operator domain; default the ONNX domain (`''`). */
  domain?: string;
}

/** A graph input, output or value_info: name, element type and dims (strings are symbolic `dim_param`s). */
export interface ValueSpec {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

/** A graph: nodes (in order), initializers, inputs, outputs. Also the body of If/Loop/Scan attributes. */
export interface GraphSpec {
  name?: string;
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
  sparseInitializers?: SparseTensorSpec[];
  inputs?: ValueSpec[];
  outputs?: ValueSpec[];
  valueInfo?: ValueSpec[];
}

/** A model: its main graph plus the model-level fields. */
export interface ModelSpec extends GraphSpec {
  /** Default 10. */
  irVersion?: number;
  /** Version of the default ONNX domain (default 17), when `opsets` is not given. */
  opset?: number;
  /** Every opset import (overrides `opset`). */
  opsets?: { domain: string; version: number }[];
  /** File name (relative to the model) of the external-data sidecar for tensors marked `external`. */
  externalDataFile?: string;
}

/** A written model and, when some tensors are external, the sidecar's bytes. */
export interface WrittenModel {
  model: Uint8Array;
  externalData?: Uint8Array;
}

const int64 = (v: number | bigint) => (typeof v === 'bigint' ? v.toString() : v);

/**
 * Writes an ONNX model (for tests and benchmarks): nodes, initializers with raw, typed or external data, Constant
 * nodes (attributes `value`, `value_float(s)`, `value_int(s)`), subgraphs (If/Loop/Scan attributes), sparse
 * initializers. Element types newer than onnx-proto's schema are written by number. External tensors go to one
 * sidecar, 64-byte aligned, returned beside the model (see {@link saveOnnxModel} to write both files).
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
    const p: Record<string, unknown> = { name: t.name, dataType: t.dataType, dims: t.dims.map(int64) };
    if (t.typed) p[t.typed.field] = t.typed.values.map((v) => (typeof v === 'bigint' ? v.toString() : v));
    if (t.externalData) {
      p.dataLocation = 1;
      p.externalData = t.externalData.map((e) => ({ ...e }));
    } else if (t.raw && t.external) {
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
  const sparse = (s: SparseTensorSpec): onnx.ISparseTensorProto => ({ values: tensor(s.values), indices: tensor(s.indices), dims: s.dims });
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
    if ('graphs' in a) return { name, type: 10, graphs: a.graphs.map(graph) };
    if ('float' in a) return { name, type: 1, f: a.float };
    if ('floats' in a) return { name, type: 6, floats: a.floats };
    if ('int' in a) return { name, type: 2, i: int64(a.int) as number };
    if ('ints' in a) return { name, type: 7, ints: a.ints.map(int64) as number[] };
    return { name, type: 11, sparseTensor: sparse(a.sparseTensor) };
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
    sparseInitializer: (g.sparseInitializers ?? []).map(sparse),
    input: (g.inputs ?? []).map(value),
    output: (g.outputs ?? []).map(value),
    valueInfo: (g.valueInfo ?? []).map(value),
  });
  const proto = ModelProto.create({
    irVersion: spec.irVersion ?? 10,
    producerName: 'trt-refit',
    opsetImport: spec.opsets ?? [{ domain: '', version: spec.opset ?? 17 }],
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

/**
 * Writes a model to `path` and, when it has external tensors, its sidecar beside it (the `externalDataFile` of the
 * spec, default `<model file name>.data`). Resolves to the paths written.
 */
export async function saveOnnxModel(path: string, spec: ModelSpec): Promise<{ modelPath: string; externalDataPath?: string }> {
  const externalDataFile = spec.externalDataFile ?? `${basename(path)}.data`;
  const { model, externalData } = writeOnnxModel({ ...spec, externalDataFile });
  await writeFile(path, model);
  if (!externalData) return { modelPath: path };
  const externalDataPath = join(dirname(path), externalDataFile);
  await writeFile(externalDataPath, externalData);
  return { modelPath: path, externalDataPath };
}
