// onnx-proto's declarations name protobufjs 6's global \`Long\` type (from @types/long 4, a dependency of this
// package): referenced here so that consumers type-check with skipLibCheck off and a restricted \`types\` list.
/// <reference types="long" preserve="true" />
import { dirname, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { isTrtRefitError } from '@trt-refit/core';
import { ExternalDataError, OnnxModelError } from './errors.js';
import { OpenFiles, readExternalTensor, parseExternalData, type ExternalDataRef } from './external-data.js';
import { int64ToBigInt, int64ToSafeNumber, type Int64Like } from './int64.js';
import { ONNX_DTYPES, onnxByteLength } from './onnx-dtype.js';
import { lazyRawData, scanModelFile, strictView } from './lazy-model.js';
import { openRegularFile, readFully } from '@trt-refit/core';

// onnx-proto's generated static code only needs protobufjs/minimal, whose Reader and Writer are the same in 6 and
// 7; the workspace overrides it to protobufjs 7. Its schema is ONNX 1.10: newer enum values (element types 17..26)
// decode as plain numbers, newer fields are skipped as unknown.
const { ModelProto } = (onnxProto as unknown as { onnx: typeof onnx }).onnx;

/** Nodes, attributes and graphs as decoded from the protobuf (onnx-proto's ONNX 1.10 schema; newer fields skipped). */
export type OnnxModelProto = onnx.ModelProto;
/** A decoded `GraphProto` (the main graph or a subgraph of If, Loop, Scan). */
export type OnnxGraphProto = onnx.IGraphProto;
/** A decoded `NodeProto`. */
export type OnnxNodeProto = onnx.INodeProto;
/** A decoded `TensorProto`; `rawData` is a view into the model's bytes. */
export type OnnxTensorProto = onnx.ITensorProto;

/** Where a tensor came from. */
export type OnnxTensorKind = 'initializer' | 'constant' | 'sparse_initializer';

/** One tensor of a model, as listed by {@link OnnxModel.tensors}; read its bytes with {@link OnnxModel.readTensor}. */
export interface OnnxTensorInfo {
  readonly name: string;
  readonly kind: OnnxTensorKind;
  /** `graph` for the main graph, `graph/<node>.<attribute>` for subgraphs (any depth). */
  readonly scope: string;
  /** ONNX element type number (1..26). */
  readonly dataType: number;
  /** ONNX element type name, e.g. `FLOAT16`. */
  readonly dtypeName: string;
  /** Exact dimensions (int64 in the file; a value beyond 2^53 makes the model an error, never a rounded number). */
  readonly dims: readonly number[];
  /** Number of elements. */
  readonly count: number;
  readonly storage: 'raw' | 'typed' | 'external';
  /** Bytes of the little-endian element data (sub-byte types packed); NaN for STRING. */
  readonly byteLength: number;
  readonly external?: ExternalDataRef;
  /** Set when the tensor cannot be read (sparse tensors, unknown element types, invalid external-data entries). */
  readonly unsupported?: string;
  /** @internal the decoded proto (or a synthetic one for Constant attributes). */
  readonly proto: OnnxTensorProto;
}

/** @internal The tensors of one graph, for traversals that walk graphs the way TensorRT's parser does. */
export interface GraphTensors {
  readonly scope: string;
  readonly initializers: ReadonlyMap<string, OnnxTensorInfo>;
  /** The tensor of each Constant node (by node object). */
  readonly constants: ReadonlyMap<OnnxNodeProto, OnnxTensorInfo>;
}

/** Options of {@link parseOnnxModel}. */
export interface ParseOnnxModelOptions {
  /** The model's file: external data locations are relative to its folder. */
  readonly modelPath?: string;
  /** The folder external data locations are relative to, when it is not the model file's (overrides `modelPath`). */
  readonly externalDataDir?: string;
}

/** Options of {@link openOnnxModel}. */
export interface OpenOnnxModelOptions {
  /** The folder external data locations are relative to (default: the model file's folder). */
  readonly externalDataDir?: string;
  /**
   * Leave large embedded initializer data (`raw_data` of 64 KiB or more) in the file and read each tensor when it
   * is asked for, with a positioned read of its range — as external data is read — instead of reading the whole
   * file first. Host memory then holds the model's structure, not its weights. Default: for files of 64 MiB or more.
   */
  readonly lazy?: boolean;
}

/**
 * A decoded ONNX model: graph structure for importers, and every tensor it carries, readable lazily. Embedded
 * `raw_data` is returned as views into the model's bytes (no copy); external data is read on demand with
 * positioned reads of exactly the tensor's range.
 *
 * @example
 * ```ts
 * const model = await openOnnxModel('model.onnx');
 * for (const t of model.tensors()) console.log(t.name, t.dtypeName, t.dims, (await model.readTensor(t)).byteLength);
 * ```
 */
export class OnnxModel {
  readonly irVersion: number;
  readonly opsets: readonly { domain: string; version: number }[];
  private list: OnnxTensorInfo[] | undefined;
  private byGraph: Map<OnnxGraphProto, GraphTensors> | undefined;

  /** @param modelDir folder that external data locations are relative to (default: the working directory). */
  constructor(readonly proto: OnnxModelProto, readonly modelDir: string | undefined) {
    this.irVersion = int64ToSafeNumber((proto.irVersion ?? 0) as Int64Like, 'ir_version');
    this.opsets = (proto.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: int64ToSafeNumber((o.version ?? 0) as Int64Like, 'opset version') }));
  }

  /** The main graph. */
  get graph(): OnnxGraphProto {
    return this.proto.graph ?? {};
  }

  /** Every tensor: initializers of all graphs (subgraphs at any depth), Constant node values, sparse initializers. */
  tensors(): OnnxTensorInfo[] {
    this.index();
    return this.list!;
  }

  /** @internal The initializers and Constant values of one graph of this model (main graph or subgraph). */
  graphTensors(graph: OnnxGraphProto): GraphTensors {
    this.index();
    return this.byGraph!.get(graph) ?? { scope: '?', initializers: new Map(), constants: new Map() };
  }

  private index(): void {
    if (this.list) return;
    const list: OnnxTensorInfo[] = [];
    const byGraph = new Map<OnnxGraphProto, GraphTensors>();
    collect(this.graph, 'graph', list, byGraph, 0);
    this.list = list;
    this.byGraph = byGraph;
  }

  /**
   * The tensor's element bytes, little-endian (sub-byte types packed two or four per byte; STRING as UTF-8 joined
   * by NUL). A view into the model for `raw_data`, one conversion for typed fields, a positioned read for external
   * data. Throws a typed error for unsupported or inconsistent tensors ({@link OnnxModelError}) and refused or
   * unreadable external data ({@link ExternalDataError}, naming the tensor and the file).
   *
   * `options.into`: for external data, a buffer to read into when it is at least the tensor's size — the result is
   * a view of its start, valid until the buffer is reused — so streaming every tensor of a model through one
   * scratch buffer keeps host memory at one tensor, however large the model. Embedded tensors are views of the
   * model's bytes either way (nothing is copied).
   *
   * @example
   * ```ts
   * const model = await openOnnxModel('big.onnx'); // weights in big.onnx.data
   * const scratch = new Uint8Array(Math.max(...model.tensors().map((t) => t.byteLength)));
   * for (const t of model.tensors()) upload(t.name, await model.readTensor(t, { into: scratch }));
   * ```
   */
  async readTensor(info: OnnxTensorInfo, options: ReadTensorOptions = {}): Promise<Uint8Array> {
    if (info.unsupported) {
      const message = `tensor ${info.name}: ${info.unsupported}`;
      throw info.storage === 'external' ? new ExternalDataError(message, info.name, info.external?.location ?? locationOf(info.proto)) : new OnnxModelError(message, { tensor: info.name });
    }
    if (info.storage === 'external') return readExternalTensor(info.name, info.external!, this.modelDir ?? process.cwd(), info.byteLength, options.into, options.files);
    const lazy = info.storage === 'raw' ? lazyRawData(info.proto) : undefined;
    if (lazy) return readLazyRaw(info, lazy, options.into, options.files);
    return embeddedBytes(info);
  }

  /**
   * Reads tensors in order with reads ahead: while the caller works on one tensor, the next `readAhead` are already
   * being read (positioned reads on the libuv pool, each file opened once), so reading overlaps the caller's work
   * and a loop costs about the larger of the two instead of their sum. Tensors read from files (external data, large
   * `raw_data` of a lazily opened model) land in `readAhead + 1` staging buffers of the largest one's size (or the
   * caller's `buffers`, e.g. pinned memory for a device upload): a yielded view is valid until the next one is asked
   * for, so copy or upload it before that. Embedded tensors are views of the model's bytes. Host memory: the staging
   * buffers, however large the model. A failed read throws when its tensor is reached (not before), and breaking
   * out of the loop waits for the reads in flight and closes the files.
   *
   * @example
   * ```ts
   * const model = await openOnnxModel('big.onnx'); // weights in big.onnx.data
   * for await (const { info, bytes } of model.streamTensors(model.tensors())) await upload(info.name, bytes);
   * ```
   */
  async *streamTensors(infos: Iterable<OnnxTensorInfo>, options: StreamTensorsOptions = {}): AsyncGenerator<{ info: OnnxTensorInfo; bytes: Uint8Array }, void, undefined> {
    const list = [...infos];
    const reader = new TensorReadAhead(this, list, options);
    try {
      for (const info of list) yield { info, bytes: await reader.read(info) };
    } finally {
      await reader.close();
    }
  }

  /** True for a tensor whose bytes are read from a file when asked for (external data, lazily left `raw_data`). */
  static readsFromFile(info: OnnxTensorInfo): boolean {
    return info.storage === 'external' || (info.storage === 'raw' && lazyRawData(info.proto) !== undefined);
  }
}

/** Options of {@link OnnxModel.readTensor}. */
export interface ReadTensorOptions {
  /** A buffer to read file-backed tensors into when it is at least the tensor's size (the result views its start). */
  readonly into?: Uint8Array;
  /** Files kept open across reads (see {@link OpenFiles}); the caller closes them. */
  readonly files?: OpenFiles;
}

/** Options of {@link OnnxModel.streamTensors}. */
export interface StreamTensorsOptions {
  /** Tensors read ahead of the one the caller works on (default 1: double buffering; 0 reads one at a time). */
  readonly readAhead?: number;
  /**
   * Staging buffers for file-backed tensors: at least `readAhead + 1`, each at least the largest such tensor
   * (default: allocated, plain host memory).
   */
  readonly buffers?: readonly Uint8Array[];
}

/**
 * The read-ahead pipeline of {@link OnnxModel.streamTensors} and the streaming parser refitter: file-backed tensors
 * of `order` are read into staging buffers in rotation, `readAhead` ahead of the tensor last asked for. Asking for
 * tensor k (with {@link TensorReadAhead.read}) releases the buffer of tensor k−1: the caller must be done with it.
 * Tensors asked for out of the planned order, and embedded ones, are read directly.
 * @internal
 */
export class TensorReadAhead {
  readonly files = new OpenFiles();
  readonly buffers: readonly Uint8Array[];
  private readonly planned: OnnxTensorInfo[];
  private readonly slot = new Map<OnnxTensorInfo, number>();
  private readonly pending = new Map<number, Promise<Uint8Array>>();
  private readonly ahead: number;
  private next = 0; // index in `planned` of the next read to start
  private asked = -1; // index in `planned` of the tensor last asked for

  constructor(
    private readonly model: OnnxModel,
    order: readonly OnnxTensorInfo[],
    options: StreamTensorsOptions & { allocate?: (byteLength: number, count: number) => readonly Uint8Array[] } = {},
  ) {
    const ahead = options.readAhead ?? 1;
    if (!Number.isSafeInteger(ahead) || ahead < 0 || ahead > 64) throw new RangeError(`readAhead must be an integer from 0 to 64, got ${String(ahead)}`);
    this.ahead = ahead;
    this.planned = [...new Set(order.filter((t) => OnnxModel.readsFromFile(t) && !t.unsupported))];
    this.planned.forEach((t, i) => this.slot.set(t, i));
    const largest = this.planned.reduce((m, t) => (Number.isFinite(t.byteLength) && t.byteLength > m ? t.byteLength : m), 0);
    const count = ahead + 1;
    const given = options.buffers ?? (this.planned.length ? (options.allocate ? options.allocate(largest, count) : Array.from({ length: count }, () => new Uint8Array(largest))) : []);
    if (this.planned.length && (given.length < count || given.some((b) => !(b instanceof Uint8Array) || b.byteLength < largest))) {
      throw new RangeError(`staging buffers: ${count} Uint8Arrays of at least ${largest} bytes are needed (readAhead ${ahead} + 1), got ${given.length}${given.length ? ` of ${given.map((b) => b?.byteLength).join(', ')} bytes` : ''}`);
    }
    this.buffers = given;
  }

  /** True when `view` lies in one of the staging buffers. */
  holds(view: ArrayBufferView): boolean {
    return this.buffers.some((b) => b.buffer === view.buffer && view.byteOffset < b.byteOffset + b.byteLength && view.byteOffset + view.byteLength > b.byteOffset);
  }

  /** The tensor's bytes: from the pipeline when it is a planned file-backed tensor, else read directly. */
  async read(info: OnnxTensorInfo): Promise<Uint8Array> {
    const k = this.slot.get(info);
    // Not planned, or asked for again after a later one (its buffer may be in use): a read of its own.
    if (k === undefined || k < this.asked) return this.model.readTensor(info, { files: this.files });
    this.asked = k;
    // Asking for k releases the buffers of every tensor before it: start the reads up to k + ahead.
    for (const [j, p] of this.pending) if (j < k) (this.pending.delete(j), p.catch(() => undefined));
    if (this.next <= k) this.next = k;
    while (this.next <= k + this.ahead && this.next < this.planned.length) {
      const j = this.next++;
      const p = this.model.readTensor(this.planned[j]!, { into: this.buffers[j % this.buffers.length], files: this.files });
      p.catch(() => undefined); // surfaced when its tensor is asked for
      this.pending.set(j, p);
    }
    const p = this.pending.get(k)!;
    this.pending.delete(k);
    return p;
  }

  /** Waits for the reads in flight (their buffers may be freed after this) and closes the files. */
  async close(): Promise<void> {
    const all = [...this.pending.values()];
    this.pending.clear();
    await Promise.allSettled(all);
    await this.files.close();
  }
}

const MAX_DEPTH = 24; // as onnx-tensorrt's parser

function collect(graph: OnnxGraphProto, scope: string, out: OnnxTensorInfo[], byGraph: Map<OnnxGraphProto, GraphTensors>, depth: number): void {
  if (depth > MAX_DEPTH) throw new OnnxModelError(`subgraphs nest deeper than ${MAX_DEPTH} levels at ${scope}`);
  const initializers = new Map<string, OnnxTensorInfo>();
  const constants = new Map<OnnxNodeProto, OnnxTensorInfo>();
  byGraph.set(graph, { scope, initializers, constants });
  for (const t of graph.initializer ?? []) {
    const info = describe(t, t.name ?? '', 'initializer', scope);
    out.push(info);
    if (!initializers.has(info.name)) initializers.set(info.name, info);
  }
  for (const s of graph.sparseInitializer ?? []) {
    const v = s.values ?? {};
    out.push({ ...describe(v, v.name ?? '', 'sparse_initializer', scope), unsupported: 'sparse tensors are not supported (TensorRT cannot refit them)' });
  }
  (graph.node ?? []).forEach((node, index) => {
    if (node.opType === 'Constant' && (node.domain ?? '') === '') {
      const c = constantTensor(node);
      const name = node.output?.[0] ?? '';
      if (c?.sparse) out.push({ ...describe(c.proto, name, 'sparse_initializer', scope), unsupported: 'sparse Constant values are not supported' });
      else if (c) {
        const info = describe(c.proto, name, 'constant', scope);
        out.push(info);
        constants.set(node, info);
      }
    }
    for (const a of node.attribute ?? []) {
      const sub = [...(a.g ? [a.g] : []), ...(a.graphs ?? [])];
      sub.forEach((g, k) => collect(g, `${scope}/${node.name || `node${index}`}.${a.name ?? ''}${sub.length > 1 ? `[${k}]` : ''}`, out, byGraph, depth + 1));
    }
  });
}

/** The tensor a Constant node produces, as TensorRT's parser reads it (value_float → FLOAT scalar, value_ints → INT64 [n], ...). */
function constantTensor(node: OnnxNodeProto): { proto: OnnxTensorProto; sparse?: boolean } | undefined {
  for (const a of node.attribute ?? []) {
    switch (a.name) {
      case 'value':
        return a.t ? { proto: a.t } : undefined;
      case 'sparse_value':
        return { proto: a.sparseTensor?.values ?? {}, sparse: true };
      case 'value_float':
        return { proto: { dataType: 1, dims: [], floatData: [a.f ?? 0] } };
      case 'value_floats':
        return { proto: { dataType: 1, dims: [a.floats?.length ?? 0], floatData: a.floats ?? [] } };
      case 'value_int':
        return { proto: { dataType: 7, dims: [], int64Data: [a.i ?? 0] } };
      case 'value_ints':
        return { proto: { dataType: 7, dims: [a.ints?.length ?? 0], int64Data: a.ints ?? [] } };
      case 'value_string':
        return { proto: { dataType: 8, dims: [], stringData: [a.s ?? new Uint8Array()] } };
      case 'value_strings':
        return { proto: { dataType: 8, dims: [a.strings?.length ?? 0], stringData: a.strings ?? [] } };
    }
  }
  return undefined;
}

function locationOf(t: OnnxTensorProto): string {
  return (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? '';
}

/** @internal Describes one tensor proto (used for attribute tensors that are not listed as model tensors). */
export function describe(t: OnnxTensorProto, name: string, kind: OnnxTensorKind, scope: string): OnnxTensorInfo {
  const dataType = t.dataType ?? 0;
  const dtype = ONNX_DTYPES[dataType];
  const dims = (t.dims ?? []).map((d, i) => {
    const n = int64ToSafeNumber(d as Int64Like, `dims[${i}] of tensor ${name}`);
    if (n < 0) throw new OnnxModelError(`tensor ${name} has a negative dimension ${n}`, { tensor: name });
    return n;
  });
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw new OnnxModelError(`tensor ${name}: the product of its dims overflows`, { tensor: name });
  }
  const base = { name, kind, scope, dataType, dtypeName: dtype?.name ?? `UNKNOWN(${dataType})`, dims, count, proto: t };
  const external = t.dataLocation === 1;
  if (!dtype) return { ...base, storage: external ? 'external' : 'typed', byteLength: NaN, unsupported: `element type ${dataType} is not an ONNX type this reader knows` };
  const byteLength = onnxByteLength(dataType, count);
  if (external) {
    if (dtype.bits === 0) return { ...base, storage: 'external', byteLength, unsupported: 'STRING tensors cannot be stored as external data' };
    try {
      return { ...base, storage: 'external', byteLength, external: parseExternalData(name, t.externalData ?? []) };
    } catch (e) {
      // One tensor's bad entries make that tensor unreadable, not the whole model.
      return { ...base, storage: 'external', byteLength, unsupported: (e as Error).message.replace(/^tensor .*?: /, '') };
    }
  }
  const raw = (lazyRawData(t)?.length ?? 0) > 0 || (t.rawData && t.rawData.length > 0);
  return { ...base, storage: raw ? 'raw' : count === 0 || typedLength(t, dtype.field) > 0 ? 'typed' : 'raw', byteLength };
}

function typedLength(t: OnnxTensorProto, field: string): number {
  return ((t as Record<string, unknown>)[field] as unknown[] | undefined)?.length ?? 0;
}

function embeddedBytes(info: OnnxTensorInfo): Uint8Array {
  const t = info.proto;
  const dtype = ONNX_DTYPES[info.dataType]!;
  const fail = (why: string) => new OnnxModelError(`tensor ${info.name} (${info.dtypeName}, dims [${info.dims.join(', ')}]): ${why}`, { tensor: info.name });
  if (dtype.bits === 0) {
    const strings = t.stringData ?? [];
    if (strings.length !== info.count) throw fail(`${strings.length} strings for ${info.count} elements`);
    return joinStrings(strings);
  }
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== info.byteLength) throw fail(`raw_data has ${raw.length} bytes, the shape needs ${info.byteLength}`);
    return raw;
  }
  return typedToBytes(t, info, dtype.field, fail);
}

/** The raw_data of a tensor left in the model file by a lazy open: one positioned read (into `into` when it fits). */
async function readLazyRaw(info: OnnxTensorInfo, lazy: { path: string; offset: number; length: number }, into?: Uint8Array, files?: OpenFiles): Promise<Uint8Array> {
  const fail = (why: string) => new OnnxModelError(`tensor ${info.name} (${info.dtypeName}, dims [${info.dims.join(', ')}]): ${why}`, { tensor: info.name, file: lazy.path });
  if (lazy.length !== info.byteLength) throw fail(`raw_data has ${lazy.length} bytes, the shape needs ${info.byteLength}`);
  const open = async () => {
    try {
      return await openRegularFile(lazy.path, (what) => fail(`the model file is now ${what}`));
    } catch (e) {
      if (isTrtRefitError(e)) throw e;
      throw fail(`the model file cannot be read again (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const opened = files ? await files.open(`\0lazy\0${lazy.path}`, open) : await open();
  try {
    if (lazy.offset + lazy.length > opened.size) throw fail('the model file changed since it was opened (it is shorter)');
    return await readFully(opened.fh, lazy.offset, lazy.length, () => fail('the model file changed while being read'), into);
  } finally {
    if (!files) await opened.fh.close();
  }
}

function joinStrings(strings: Uint8Array[]): Uint8Array {
  const total = strings.reduce((s, x) => s + x.length, 0) + Math.max(0, strings.length - 1);
  const out = new Uint8Array(total);
  let o = 0;
  strings.forEach((s, i) => {
    if (i) out[o++] = 0;
    out.set(s, o);
    o += s.length;
  });
  return out;
}

/**
 * One bulk conversion of a typed field into little-endian element bytes, with the values the onnx library's
 * `numpy_helper.to_array` gives: narrow integers and bit patterns (FLOAT16, BFLOAT16, FLOAT8*) wrap to their
 * width, BOOL is 0 or 1, sub-byte types hold one packed byte per value.
 */
function typedToBytes(t: OnnxTensorProto, info: OnnxTensorInfo, field: string, fail: (why: string) => Error): Uint8Array {
  const bits = ONNX_DTYPES[info.dataType]!.bits;
  const values = ((t as Record<string, unknown>)[field] as unknown[] | undefined) ?? [];
  const complex = info.dataType === 14 || info.dataType === 15;
  // Sub-byte and complex types pack several elements per stored value (or several values per element).
  const perValue = bits < 8 ? 8 / bits : complex ? 0.5 : 1;
  const expected = Math.ceil(info.count / perValue);
  if (values.length !== expected) throw fail(`${field} has ${values.length} values, the shape needs ${expected}`);
  const out = new Uint8Array(info.byteLength);
  const view = new DataView(out.buffer);
  const width = bits < 8 ? 1 : bits / 8 / (complex ? 2 : 1);
  const bool = info.dataType === 9;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const o = i * width;
    switch (field) {
      case 'floatData':
        view.setFloat32(o, v as number, true);
        break;
      case 'doubleData':
        view.setFloat64(o, v as number, true);
        break;
      case 'int64Data':
        view.setBigInt64(o, int64ToBigInt(v as Int64Like), true);
        break;
      case 'uint64Data':
        if (width === 4) view.setUint32(o, Number(BigInt.asUintN(32, int64ToBigInt(v as Int64Like))), true);
        else view.setBigUint64(o, BigInt.asUintN(64, int64ToBigInt(v as Int64Like)), true);
        break;
      default: {
        // int32_data: one element per value (bit patterns for FLOAT16/BFLOAT16/FLOAT8), or one packed byte for sub-byte types.
        const n = v as number;
        if (bool) view.setUint8(o, n !== 0 ? 1 : 0);
        else if (width === 1) view.setUint8(o, n & 0xff);
        else if (width === 2) view.setUint16(o, n & 0xffff, true);
        else view.setInt32(o, n, true);
      }
    }
  }
  return out;
}

/**
 * Decodes a model from bytes without copying them: embedded weights stay views into `bytes`, which must therefore
 * stay unchanged while the model is used. `modelPath` (the .onnx file) or `externalDataDir` anchors external data.
 * @throws OnnxModelError (code INVALID_MODEL) for bytes that are not an ONNX model (truncated, corrupt, no graph),
 * dims that do not fit exactly, or subgraphs nested deeper than TensorRT accepts (24).
 */
export function parseOnnxModel(bytes: Uint8Array, options: ParseOnnxModelOptions = {}): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new OnnxModelError('parseOnnxModel: bytes must be a Uint8Array');
  let proto: OnnxModelProto;
  try {
    proto = ModelProto.decode(strictView(bytes));
  } catch (e) {
    // protobufjs checks every length against the input before it slices, so a forged length fails here.
    throw new OnnxModelError(`not a valid ONNX model: ${(e as Error).message}`, {}, { cause: e });
  }
  return modelFromProto(proto, options);
}

function modelFromProto(proto: OnnxModelProto, options: ParseOnnxModelOptions): OnnxModel {
  if (!proto.graph) throw new OnnxModelError('not a valid ONNX model: it has no graph');
  const dir = options.externalDataDir !== undefined ? resolve(options.externalDataDir) : options.modelPath ? dirname(resolve(options.modelPath)) : undefined;
  const model = new OnnxModel(proto, dir);
  try {
    model.tensors(); // validates dims and nesting up front
  } catch (e) {
    if (isTrtRefitError(e)) throw e;
    throw new OnnxModelError(`not a valid ONNX model: ${(e as Error).message}`, {}, { cause: e });
  }
  return model;
}

/** Files from this size on are opened lazily by default (see {@link OpenOnnxModelOptions.lazy}). */
const LAZY_FILE = 64 * 2 ** 20;

/** Protobuf messages cannot exceed 2 GiB; larger models keep their weights in external data. */
const MAX_PROTOBUF = 2 ** 31 - 1;

/**
 * Reads and decodes an ONNX file. Only the protobuf is read; external data stays on disk and is read tensor by
 * tensor, with positioned reads of exactly each tensor's range, when asked for.
 * @throws OnnxModelError for a missing or unreadable file, a path that is not a regular file, or an invalid model.
 */
export async function openOnnxModel(path: string, options: OpenOnnxModelOptions = {}): Promise<OnnxModel> {
  let bytes: Uint8Array | undefined;
  let proto: OnnxModelProto | undefined;
  try {
    const { fh, size } = await openRegularFile(path, (what) => new OnnxModelError(`cannot read ${path}: it is ${what}, not a regular file`, { file: path }));
    try {
      if (size > MAX_PROTOBUF) throw new OnnxModelError(`cannot read ${path}: ${size} bytes is more than a protobuf can hold (2 GiB); such models keep their weights in external data`, { file: path });
      // The field walk is strict where protobufjs is lenient (it reads a known field whatever its wire type): when
      // the walk refuses, the ordinary decoder decides, so both ways of opening always agree.
      if (options.lazy ?? size >= LAZY_FILE) proto = await scanModelFile(fh, size, resolve(path)).catch(() => undefined);
      if (!proto) bytes = await readFully(fh, 0, size, () => new OnnxModelError(`cannot read ${path}: it shrank while being read`, { file: path }));
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (isTrtRefitError(e)) throw e;
    throw new OnnxModelError(`cannot read ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  const parseOptions = { modelPath: path, ...(options.externalDataDir !== undefined ? { externalDataDir: options.externalDataDir } : {}) };
  return proto ? modelFromProto(proto, parseOptions) : parseOnnxModel(bytes!, parseOptions);
}

/** A model whose initializers may be replaced by bytes given with `loadInitializer`. */
class OverriddenModel extends OnnxModel {
  constructor(base: OnnxModel, private readonly overrides: ReadonlyMap<string, Uint8Array>) {
    super(base.proto, base.modelDir);
  }
  override async readTensor(info: OnnxTensorInfo, options: ReadTensorOptions = {}): Promise<Uint8Array> {
    // TensorRT looks user data up by tensor name for any initializer (WeightsContext::convertOnnxWeights).
    const o = info.kind === 'initializer' ? this.overrides.get(info.name) : undefined;
    return o ?? super.readTensor(info, options);
  }
}

/**
 * The same model with some initializers' bytes replaced (by name; the bytes must have the initializer's type and
 * element count). What `IParserRefitter.loadInitializer` does to the model it refits from, and how `diff` and other
 * tools see a model with a checkpoint's values in it. The base model is not changed.
 */
export function withInitializers(model: OnnxModel, overrides: ReadonlyMap<string, Uint8Array>): OnnxModel {
  return new OverriddenModel(model, overrides);
}
