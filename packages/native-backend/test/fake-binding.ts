/**
 * A fake of the native addon (`NativeBinding`) for unit tests of the TS adapter: CUDA memory in host arrays, and a
 * tiny TensorRT whose "models" are JSON ({ inputs, weights: [{ name, type, count, group? }] }). It checks what the
 * adapter sends across (numbers, buffers, masks), records calls, and lets a test hold a refit open to observe
 * serialization and busy states. Semantics follow TensorRT where the adapter depends on them.
 */
import { NetworkDefinition, type TensorDesc } from '@trt-refit/core';
import { importOnnxModel, parseOnnxModel } from '@trt-refit/onnx';
import type * as B from '../src/binding.js';
import { dataTypeNumber } from '../src/native-enums.js';
import { referenceMerge } from './lora-reference.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface FakeModel {
  inputs?: { name: string; dtype: number; dims: number[] }[];
  outputs?: { name: string; dtype: number; dims: number[] }[];
  weights: { name: string; type: number; count: number; group?: string }[];
}

export async function onnxAsFakeModel(bytes: Uint8Array): Promise<FakeModel | undefined> {
  const network = new NetworkDefinition();
  const { errors } = await importOnnxModel(parseOnnxModel(bytes), network);
  if (errors.length) return undefined;
  const io = (t: TensorDesc) => ({ name: t.name, dtype: dataTypeNumber(t.dtype), dims: t.dims.map((d) => (typeof d === 'number' ? d : -1)) });
  return {
    inputs: network.inputs.map(io),
    outputs: network.outputs.map(io),
    weights: network.weightsEntries().map((e) => ({ name: e.name, type: dataTypeNumber(e.weights.type), count: e.weights.count })),
  };
}

export function modelBytes(model: FakeModel): Uint8Array {
  return enc.encode(JSON.stringify(model));
}

class Queue {
  items: [number, string][] = [];
  constructor(private readonly notify: () => void) {}
  push(code: number, text: string): void {
    this.items.push([code, text]);
    queueMicrotask(this.notify);
  }
  drain(): [number, string][] {
    return this.items.splice(0);
  }
}

export class FakeLogSink implements B.NativeLogSink {
  readonly queue: Queue;
  closed = false;
  constructor(notify: () => void, public minSeverity: number) {
    this.queue = new Queue(notify);
  }
  log(severity: number, message: string): void {
    if (!this.closed && severity <= this.minSeverity) this.queue.push(severity, message);
  }
  drain(): [number, string][] {
    return this.queue.drain();
  }
  setMinSeverity(s: number): void {
    this.minSeverity = s;
  }
  close(): void {
    this.closed = true;
  }
}

export class FakeRecorder implements B.NativeErrorRecorderBridge {
  readonly queue: Queue;
  closed = false;
  constructor(notify: () => void) {
    this.queue = new Queue(notify);
  }
  report(code: number, desc: string): void {
    if (!this.closed) this.queue.push(code, desc);
  }
  drain(): [number, string][] {
    return this.queue.drain();
  }
  clear(): void {}
  close(): void {
    this.closed = true;
  }
}

/** Identity of memory as TensorRT sees it: (ArrayBuffer, byteOffset) for host views, the buffer for device. */
const ids = new WeakMap<object, Map<number, bigint>>();
let nextId = 1n;
export function fakeAddress(v: ArrayBufferView | B.NativeDeviceBuffer | null): bigint {
  if (v === null) return 0n;
  const key: object = ArrayBuffer.isView(v) ? v.buffer : v;
  const off = ArrayBuffer.isView(v) ? v.byteOffset : 0;
  let m = ids.get(key);
  if (!m) ids.set(key, (m = new Map()));
  let id = m.get(off);
  if (id === undefined) m.set(off, (id = nextId++ * 4096n));
  return id;
}

class Disposable {
  disposed = false;
  dispose(): void {
    this.disposed = true;
  }
  check(what: string): void {
    if (this.disposed) throw Object.assign(new Error(`${what} was used after dispose()`), { code: 'ERR_TRT_REFIT_DISPOSED' });
  }
}

// ------------------------------------------------------------------------------------------------------- CUDA

export class FakeDeviceBuffer extends Disposable implements B.NativeDeviceBuffer {
  readonly memory: Uint8Array;
  /** The sources of uploadAsync calls, in order. */
  readonly uploads: ArrayBufferView[] = [];
  constructor(
    readonly byteLength: number,
    readonly deviceId = 0,
  ) {
    super();
    this.memory = new Uint8Array(byteLength);
  }
  get address(): bigint {
    return fakeAddress(this);
  }
  upload(src: ArrayBufferView, offset = 0): void {
    this.check('DeviceBuffer');
    this.memory.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), offset);
  }
  download(dst: ArrayBufferView, offset = 0): void {
    this.check('DeviceBuffer');
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(this.memory.subarray(offset, offset + dst.byteLength));
  }
  async uploadAsync(src: ArrayBufferView, stream: B.NativeCudaStream, offset = 0): Promise<void> {
    if (stream.deviceId !== this.deviceId) throw new RangeError(`uploadAsync: the stream belongs to device ${stream.deviceId} but the buffer to device ${this.deviceId}`);
    this.uploads.push(src);
    this.upload(src, offset);
  }
  async downloadAsync(dst: ArrayBufferView, _stream: B.NativeCudaStream, offset = 0): Promise<void> {
    this.download(dst, offset);
  }
}

export class FakeStream extends Disposable implements B.NativeCudaStream {
  readonly handle = 0x5000n;
  constructor(readonly deviceId = 0) {
    super();
  }
  synchronize(): Promise<void> {
    this.check('CudaStream');
    return Promise.resolve();
  }
  query(): boolean {
    return true;
  }
  waitEvent(): void {}
}

export class FakeEvent extends Disposable implements B.NativeCudaEvent {
  recorded = 0;
  record(): void {
    this.recorded++;
  }
  synchronize(): Promise<void> {
    return Promise.resolve();
  }
  query(): boolean {
    return true;
  }
  elapsedTime(): number {
    return 0.5;
  }
}

export function fakeCuda(overrides: Partial<B.NativeCudaStatus> = {}): B.NativeCudaModule & { allocated: FakeDeviceBuffer[]; pinned: Set<ArrayBuffer>; streams: FakeStream[]; loraMerges: B.NativeLoraMergeSpec[] } {
  const allocated: FakeDeviceBuffer[] = [];
  const pinned = new Set<ArrayBuffer>();
  const streams: FakeStream[] = [];
  const count = overrides.deviceCount ?? 1;
  const device = (d: number | undefined) => {
    if (d !== undefined && !(d >= 0 && d < count)) throw new RangeError(`device must be the ordinal of a CUDA device (${count} here), received ${d}`);
    return d ?? 0;
  };
  return {
    allocated,
    pinned,
    streams,
    status: () => ({ headerVersion: '13.0', loaded: true, loadErrors: [], path: '/fake/libcudart.so.13', runtimeVersion: '13.0', driverVersion: '13.0', deviceCount: 1, ...overrides }),
    deviceCount: () => count,
    getDevice: () => 0,
    setDevice: () => {},
    deviceProperties: () => ({ name: 'Fake GPU', computeCapability: '9.0', totalMemory: 1 << 30, multiProcessorCount: 1, pciBusId: '0:0:0' }),
    memGetInfo: () => ({ free: 1 << 29, total: 1 << 30 }),
    allocate: (n: number, d?: number) => {
      const b = new FakeDeviceBuffer(n, device(d));
      allocated.push(b);
      return b;
    },
    allocatePinned: (n: number) => {
      const b = new ArrayBuffer(n);
      pinned.add(b);
      return b;
    },
    freePinned: (b: ArrayBuffer) => {
      if (b.byteLength === 0 && !pinned.has(b)) return false;
      if (!pinned.delete(b)) throw new TypeError('buffer must be an ArrayBuffer returned by allocatePinned');
      structuredClone(b, { transfer: [b] }); // detaches it, as the addon does
      return true;
    },
    isPinned: (v: ArrayBufferView | ArrayBuffer) => pinned.has(ArrayBuffer.isView(v) ? (v.buffer as ArrayBuffer) : v),
    createStream: (d?: number) => {
      const s = new FakeStream(device(d));
      streams.push(s);
      return s;
    },
    createEvent: () => new FakeEvent(),
    synchronizeDevice: () => Promise.resolve(),
    stagingBytes: () => 0,
    loraMerges: [] as B.NativeLoraMergeSpec[],
    async loraMerge(spec: B.NativeLoraMergeSpec): Promise<void> {
      this.loraMerges.push(spec);
      const mem = (x: B.NativeDeviceBuffer) => (x as FakeDeviceBuffer).memory;
      const f32 = (x: B.NativeDeviceBuffer) => new Float32Array(mem(x).buffer.slice(0));
      const merged = referenceMerge(mem(spec.base), spec.type, spec.rows, spec.cols, spec.transposed, spec.factors.map((f) => ({ a: f32(f.a), b: f32(f.b), rank: f.rank, alpha: f.alpha })));
      mem(spec.out).set(merged);
    },
    loraStatus: () => ({ cublasLoaded: true, cublasPath: '/fake/libcublas.so.13', cublasLoadErrors: [], kernelFunctionsMissing: [] }),
  };
}

// -------------------------------------------------------------------------------------------------- TensorRT

/** A gate a test opens to let fake asynchronous work finish. */
export class Gate {
  private waiters: (() => void)[] = [];
  closed = false;
  wait(): Promise<void> {
    return this.closed ? new Promise((r) => this.waiters.push(r)) : Promise.resolve();
  }
  open(): void {
    this.closed = false;
    for (const w of this.waiters.splice(0)) w();
  }
}

export interface FakeState {
  /** Bit numbers in the plan that make an engine refittable / stripped (set by the fake from the major). */
  refitBits: number[];
  stripBit: number;
  gate: Gate;
  /** Calls to the native layer, in order. */
  calls: string[];
  /** Highest number of refits and executions running at once on the fake GPU. */
  maxConcurrentRefits: number;
  running: number;
  builds: { mask: number; profiles: B.NativeProfileDims[][] }[];
  refitters: FakeRefitter[];
}

function check(cond: unknown, message: string, code = 'ERR_TRT_REFIT_INVALID_ARGUMENT'): asserts cond {
  if (!cond) throw Object.assign(new Error(message), { code });
}

class FakeNetwork extends Disposable implements B.NativeNetwork {
  model: FakeModel | undefined;
  marked = new Set<string>();
  constructor(readonly sink: FakeLogSink) {
    super();
  }
  getNbLayers(): number {
    return this.model ? this.model.weights.length + 1 : 0;
  }
  getInputs(): B.NativeTensorInfo[] {
    return this.model?.inputs ?? [];
  }
  getOutputs(): B.NativeTensorInfo[] {
    return this.model?.outputs ?? [];
  }
  markWeightsRefittable(name: string): boolean {
    if (!this.model?.weights.some((w) => w.name === name)) return false;
    this.marked.add(name);
    return true;
  }
  unmarkWeightsRefittable(name: string): boolean {
    if (!this.model?.weights.some((w) => w.name === name)) return false;
    this.marked.delete(name);
    return true;
  }
  areWeightsMarkedRefittable(name: string): boolean {
    return this.marked.has(name);
  }
}

class FakeConfig extends Disposable implements B.NativeBuilderConfig {
  mask = 1 << 30; // an unmodelled default flag (like TF32) that setFlags must keep
  profiles: B.NativeProfileDims[][] = [];
  verbosity = 2;
  setFlags(mask: number): void {
    this.check('BuilderConfig');
    this.mask = mask >>> 0;
  }
  getFlags(): number {
    return this.mask;
  }
  setProfilingVerbosity(v: number): void {
    this.verbosity = v;
  }
  getProfilingVerbosity(): number {
    return this.verbosity;
  }
  setMemoryPoolLimit(): void {}
  addOptimizationProfile(_b: B.NativeBuilder, inputs: readonly B.NativeProfileDims[]): number {
    this.profiles.push([...inputs]);
    return this.profiles.length - 1;
  }
  getNbOptimizationProfiles(): number {
    return this.profiles.length;
  }
}

class FakeBuilder extends Disposable implements B.NativeBuilder {
  constructor(
    readonly state: FakeState,
    readonly sink: FakeLogSink,
  ) {
    super();
  }
  createNetwork(): FakeNetwork {
    return new FakeNetwork(this.sink);
  }
  createBuilderConfig(): FakeConfig {
    return new FakeConfig();
  }
  async buildSerializedNetwork(network: B.NativeNetwork, config: B.NativeBuilderConfig): Promise<Uint8Array> {
    const n = network as FakeNetwork;
    const c = config as FakeConfig;
    this.state.calls.push('buildSerializedNetwork');
    this.state.builds.push({ mask: c.mask, profiles: c.profiles });
    await this.state.gate.wait();
    if (!n.model) {
      this.sink.log(1, 'network has no layers');
      throw Object.assign(new Error('TensorRT could not build the network (see the logged errors)'), { code: 'ERR_TRT_REFIT_BUILD_FAILED' });
    }
    return enc.encode(JSON.stringify({ magic: 'fake-plan', mask: c.mask, model: n.model, marked: [...n.marked] }));
  }
  setErrorRecorder(): void {}
  setMaxThreads(): boolean {
    return true;
  }
}

class FakeParser extends Disposable implements B.NativeOnnxParser {
  errors: B.NativeParserError[] = [];
  constructor(
    readonly network: FakeNetwork,
    readonly files: Map<string, FakeModel>,
  ) {
    super();
  }
  private fill(model: FakeModel | undefined, what: string): boolean {
    if (!model) {
      this.errors.push({ code: 3, desc: `could not read ${what}`, file: 'ModelImporter.cpp', line: 1, func: 'parse', node: -1, nodeName: '', nodeOperator: '' });
      return false;
    }
    this.network.model = model;
    return true;
  }
  /** Reads a fake (JSON) model, or a real ONNX model through trt-refit's importer (TensorRT's naming). */
  async parse(bytes: Uint8Array): Promise<boolean> {
    let model: FakeModel | undefined;
    try {
      model = JSON.parse(dec.decode(bytes)) as FakeModel;
      if (!Array.isArray(model.weights)) model = undefined;
    } catch {
      model = await onnxAsFakeModel(bytes).catch(() => undefined);
    }
    if (model) this.parsedBytes.push(bytes.slice());
    return this.fill(model, 'the model bytes');
  }
  /** The models parse() accepted, as given. */
  readonly parsedBytes: Uint8Array[] = [];
  async parseFromFile(path: string): Promise<boolean> {
    return this.fill(this.files.get(path), path);
  }
  getNbErrors(): number {
    return this.errors.length;
  }
  getError(i: number): B.NativeParserError | undefined {
    return this.errors[i];
  }
  clearErrors(): void {
    this.errors = [];
  }
}

class FakeSerializationConfig extends Disposable implements B.NativeSerializationConfig {
  constructor(public mask: number) {
    super();
  }
  setFlags(mask: number): boolean {
    this.mask = mask;
    return true;
  }
  getFlags(): number {
    return this.mask;
  }
  setFlag(bit: number): boolean {
    this.mask |= 1 << bit;
    return true;
  }
  clearFlag(bit: number): boolean {
    this.mask &= ~(1 << bit);
    return true;
  }
  getFlag(bit: number): boolean {
    return ((this.mask >>> bit) & 1) === 1;
  }
}

export class FakeEngine extends Disposable implements B.NativeEngine {
  refittable: boolean;
  stripped: boolean;
  weights: FakeModel['weights'];
  constructor(
    readonly state: FakeState,
    readonly plan: { mask: number; model: FakeModel },
  ) {
    super();
    this.refittable = state.refitBits.some((b) => (plan.mask >>> b) & 1);
    this.stripped = ((plan.mask >>> state.stripBit) & 1) === 1;
    this.weights = this.refittable ? plan.model.weights : [];
  }
  isRefittable(): boolean {
    this.check('Engine');
    return this.refittable;
  }
  createSerializationConfig(): FakeSerializationConfig {
    return new FakeSerializationConfig(this.stripped ? 1 : 0);
  }
  serialize(): Uint8Array {
    return enc.encode(JSON.stringify(this.plan));
  }
  serializeWithConfig(config: B.NativeSerializationConfig): Uint8Array {
    return enc.encode(JSON.stringify({ ...this.plan, serializationFlags: config.getFlags() }));
  }
  getEngineStat(stat: number): number {
    return stat === 0 ? 1000 : this.stripped ? 900 : -1;
  }
  getEngineInformation(): string {
    return JSON.stringify({ Layers: ['/c1/Conv + /b1/BatchNormalization + /Relu', '/fc/Gemm'], Bindings: ['input', 'logits'] });
  }
  getNbLayers(): number {
    return 2;
  }
  getIOTensors(): B.NativeIOTensor[] {
    return [
      ...(this.plan.model.inputs ?? []).map((t) => ({ ...t, mode: 1 })),
      ...(this.plan.model.outputs ?? []).map((t) => ({ ...t, mode: 2 })),
    ];
  }
  createExecutionContext(): FakeContext {
    return new FakeContext(this);
  }
  setErrorRecorder(): void {}
}

const SIZE: Record<number, number> = { 0: 4, 1: 2, 2: 1, 3: 4, 4: 1, 5: 1, 6: 1, 7: 2, 8: 8 };

export class FakeContext extends Disposable implements B.NativeExecutionContext {
  executions: B.NativeExecInput[][] = [];
  constructor(readonly engine: FakeEngine) {
    super();
  }
  async execute(inputs: readonly B.NativeExecInput[]): Promise<B.NativeExecOutput[]> {
    const state = this.engine.state;
    state.calls.push('execute');
    this.executions.push([...inputs]);
    state.running++;
    state.maxConcurrentRefits = Math.max(state.maxConcurrentRefits, state.running);
    try {
      await state.gate.wait();
    } finally {
      state.running--;
    }
    const batch = inputs[0]?.dims[0] ?? 1;
    return (this.engine.plan.model.outputs ?? []).map((o) => {
      const dims = o.dims.map((d) => (d < 0 ? batch : d));
      const n = dims.reduce((a, b) => a * b, 1);
      const data = new ArrayBuffer(n * (SIZE[o.dtype] ?? 1));
      if (o.dtype === 0) new Float32Array(data).fill(this.engine.state.running);
      if (o.dtype === 1) new Uint16Array(data).fill(0x3c00); // 1.0 in half precision
      return { name: o.name, dtype: o.dtype, dims, data };
    });
  }
}

interface Held {
  type: number;
  values: ArrayBufferView | B.NativeDeviceBuffer | null;
  count: number;
  location: number;
}

export class FakeRefitter extends Disposable implements B.NativeRefitter {
  readonly set = new Map<string, Held>();
  recorder: FakeRecorder | null = null;
  maxThreads = 1;
  validation = true;
  constructor(
    readonly engine: FakeEngine,
    readonly sink: FakeLogSink,
  ) {
    super();
    engine.state.refitters.push(this);
  }
  private error(code: number, text: string): false {
    this.sink.log(1, text);
    this.recorder?.report(code, text);
    return false;
  }
  setNamedWeights(name: string, type: number, values: ArrayBufferView | B.NativeDeviceBuffer | null, count: number, location: number): boolean {
    this.check('Refitter');
    this.engine.state.calls.push(`setNamedWeights:${name}`);
    const proto = this.engine.weights.find((w) => w.name === name);
    if (!proto) return this.error(3, `setNamedWeights: ${name} is not a refittable weight`);
    if (proto.count !== count) return this.error(3, `setNamedWeights: ${name} count ${count} differs from ${proto.count}`);
    if (proto.type !== type) return this.error(3, `setNamedWeights: ${name} type ${type} differs from ${proto.type}`);
    check(location === 0 ? values instanceof FakeDeviceBuffer : values === null || ArrayBuffer.isView(values), 'values do not match location');
    this.set.set(name, { type, values, count, location });
    return true;
  }
  namedWeights(name: string): B.NativeNamedWeights | null {
    const h = this.set.get(name);
    return h ? { type: h.type, count: h.count, location: h.location, address: fakeAddress(h.values) } : null;
  }
  copyNamedWeights(name: string): Uint8Array | null {
    const h = this.set.get(name);
    if (!h || h.values === null) return null;
    if (h.values instanceof FakeDeviceBuffer) return h.values.memory.slice();
    const v = h.values as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  }
  getWeightsLocation(name: string): number {
    return this.set.get(name)?.location ?? 1;
  }
  unsetNamedWeights(name: string): boolean {
    return this.set.delete(name);
  }
  getMissingWeights(): string[] {
    const setGroups = new Set([...this.set.keys()].map((n) => this.engine.weights.find((w) => w.name === n)?.group).filter(Boolean));
    return this.engine.weights
      .filter((w) => !this.set.has(w.name) && (this.engine.stripped || (w.group !== undefined && setGroups.has(w.group))))
      .map((w) => w.name);
  }
  getAllWeights(): string[] {
    return this.engine.weights.map((w) => w.name);
  }
  getWeightsPrototype(name: string): { type: number; count: number } {
    const w = this.engine.weights.find((x) => x.name === name);
    return w ? { type: w.type, count: w.count } : { type: 0, count: -1 };
  }
  private async refit(): Promise<boolean> {
    const state = this.engine.state;
    state.calls.push('refit');
    state.running++;
    state.maxConcurrentRefits = Math.max(state.maxConcurrentRefits, state.running);
    try {
      await state.gate.wait();
      if (this.getMissingWeights().length) return this.error(9, `refit: missing ${this.getMissingWeights().join(', ')}`);
      this.engine.stripped = false;
      return true;
    } finally {
      state.running--;
    }
  }
  refitCudaEngine(): Promise<boolean> {
    return this.refit();
  }
  refitCudaEngineAsync(stream: B.NativeCudaStream): Promise<boolean> {
    check(stream instanceof FakeStream, 'stream must be a CudaStream');
    return this.refit();
  }
  setMaxThreads(n: number): boolean {
    if (n < 1) return this.error(3, 'setMaxThreads: must be >= 1');
    this.maxThreads = n;
    return true;
  }
  getMaxThreads(): number {
    return this.maxThreads;
  }
  setWeightsValidation(e: boolean): void {
    this.validation = e;
  }
  getWeightsValidation(): boolean {
    return this.validation;
  }
  setErrorRecorder(r: B.NativeErrorRecorderBridge | null): void {
    this.recorder = r as FakeRecorder | null;
  }
  setWeights(layerName: string, role: number, type: number, values: ArrayBufferView | null, count: number): boolean {
    this.engine.state.calls.push(`setWeights:${layerName}:${role}`);
    const w = this.engine.weights.find((x) => x.name === `${layerName}_${role}`);
    if (!w || w.count !== count || w.type !== type) return this.error(3, `setWeights: no ${layerName}/${role}`);
    this.set.set(w.name, { type, values, count, location: 1 });
    return true;
  }
  getMissing(): { layerName: string; role: number }[] {
    return this.getMissingWeights().map((n) => ({ layerName: n, role: 0 }));
  }
  getAll(): { layerName: string; role: number }[] {
    return this.getAllWeights().map((n) => ({ layerName: n, role: 0 }));
  }
}

class FakeParserRefitter extends Disposable implements B.NativeParserRefitter {
  errors: B.NativeParserError[] = [];
  loaded: FakeModel | undefined;
  initializers = new Map<string, ArrayBufferView>();
  constructor(
    readonly refitter: FakeRefitter,
    readonly files: Map<string, FakeModel>,
  ) {
    super();
  }
  /** Sets every weight of the engine from its own memory, like TensorRT's parser refitter. */
  private apply(model: FakeModel | undefined, what: string): boolean {
    if (!model) {
      this.errors.push({ code: 3, desc: `could not read ${what}`, file: '', line: 0, func: '', node: -1, nodeName: '', nodeOperator: '' });
      return false;
    }
    let ok = true;
    for (const w of this.refitter.engine.weights) {
      const m = model.weights.find((x) => x.name === w.name);
      if (!m || m.count !== w.count) {
        this.errors.push({ code: 14, desc: `weights ${w.name} not found in the model`, file: '', line: 0, func: '', node: -1, nodeName: w.name, nodeOperator: '' });
        ok = false;
        continue;
      }
      const data = this.initializers.get(w.name) ?? new Uint8Array((SIZE[w.type] ?? 1) * w.count);
      this.refitter.setNamedWeights(w.name, w.type, data, w.count, 1);
    }
    return ok;
  }
  async refitFromFile(path: string): Promise<boolean> {
    this.refitter.engine.state.calls.push('refitFromFile');
    await this.refitter.engine.state.gate.wait();
    return this.apply(this.files.get(path), path);
  }
  async refitFromBytes(bytes: Uint8Array): Promise<boolean> {
    return this.apply(JSON.parse(dec.decode(bytes)) as FakeModel, 'bytes');
  }
  async loadModelProto(bytes: Uint8Array): Promise<boolean> {
    if (this.loaded) {
      this.errors.push({ code: 4, desc: 'a model is already loaded', file: '', line: 0, func: '', node: -1, nodeName: '', nodeOperator: '' });
      return false;
    }
    this.loaded = JSON.parse(dec.decode(bytes)) as FakeModel;
    return true;
  }
  loadInitializer(name: string, data: ArrayBufferView): boolean {
    if (!this.loaded?.weights.some((w) => w.name === name)) return false;
    this.initializers.set(name, data);
    return true;
  }
  async refitModelProto(): Promise<boolean> {
    const ok = this.apply(this.loaded, 'the loaded model');
    this.loaded = undefined;
    return ok;
  }
  getNbErrors(): number {
    return this.errors.length;
  }
  getError(i: number): B.NativeParserError | undefined {
    return this.errors[i];
  }
  clearErrors(): void {
    this.errors = [];
  }
}

class FakeRuntime extends Disposable implements B.NativeRuntime {
  hostCode = false;
  constructor(
    readonly state: FakeState,
    readonly sink: FakeLogSink,
  ) {
    super();
  }
  async deserializeCudaEngine(plan: Uint8Array): Promise<FakeEngine> {
    this.check('Runtime');
    let parsed: { magic?: string; mask: number; model: FakeModel } | undefined;
    try {
      parsed = JSON.parse(dec.decode(plan)) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.magic !== 'fake-plan') {
      this.sink.log(1, 'IRuntime::deserializeCudaEngine: the plan is not a TensorRT plan (magic tag mismatch)');
      throw Object.assign(new Error('TensorRT could not deserialize the plan (see the logged errors)'), { code: 'ERR_TRT_REFIT_INVALID_PLAN' });
    }
    return new FakeEngine(this.state, parsed);
  }
  async loadRuntime(): Promise<FakeRuntime> {
    return new FakeRuntime(this.state, this.sink);
  }
  setEngineHostCodeAllowed(a: boolean): void {
    this.hostCode = a;
  }
  getEngineHostCodeAllowed(): boolean {
    return this.hostCode;
  }
  setErrorRecorder(): void {}
  setMaxThreads(): boolean {
    return true;
  }
}

export interface FakeOptions {
  /** Loaded TensorRT version (default "10.16.1"). */
  version?: string;
  /** What `load()` returns, overriding the defaults. */
  load?: Partial<B.NativeTensorRtLoadResult>;
  cuda?: Partial<B.NativeCudaStatus>;
  /** Leave out `binding.tensorrt` (addon built without TensorRT). */
  noTensorRt?: boolean;
}

export interface FakeBinding extends B.NativeBinding {
  readonly state: FakeState;
  /** Models `parseFromFile` / `refitFromFile` find by path. */
  readonly files: Map<string, FakeModel>;
  readonly sinks: FakeLogSink[];
  readonly cuda: ReturnType<typeof fakeCuda>;
}

/** A fake addon. Bit numbers follow the loaded major (BUILDER_FLAG_VALUES of core). */
export function fakeBinding(options: FakeOptions = {}): FakeBinding {
  const version = options.version ?? '10.16.1';
  const major = Number(version.split('.')[0]);
  const bits = major >= 11 ? { REFIT: 4, STRIP_PLAN: 18, REFIT_IDENTICAL: 19, REFIT_INDIVIDUAL: 22 } : { REFIT: 4, STRIP_PLAN: 19, REFIT_IDENTICAL: 20, REFIT_INDIVIDUAL: 23 };
  const state: FakeState = {
    refitBits: [bits.REFIT, bits.STRIP_PLAN, bits.REFIT_IDENTICAL, bits.REFIT_INDIVIDUAL],
    stripBit: bits.STRIP_PLAN,
    gate: new Gate(),
    calls: [],
    maxConcurrentRefits: 0,
    running: 0,
    builds: [],
    refitters: [],
  };
  const files = new Map<string, FakeModel>();
  const sinks: FakeLogSink[] = [];
  const sinkOf = (s: B.NativeLogSink) => s as FakeLogSink;
  const tensorrt: B.NativeTensorRtModule = {
    headerVersion: `${major}.16.0`,
    load: () => ({ ok: true, headerVersion: `${major}.16.0`, errors: [], parserErrors: [], nvinfer: `/fake/libnvinfer.so.${major}`, nvonnxparser: `/fake/libnvonnxparser.so.${major}`, parserAvailable: true, version, ...options.load }),
    createBuilder: (s) => new FakeBuilder(state, sinkOf(s)),
    createRuntime: (s) => new FakeRuntime(state, sinkOf(s)),
    createRefitter: (e, s) => {
      const engine = e as FakeEngine;
      check(engine.refittable, 'the engine is not refittable', 'ERR_TRT_REFIT_NOT_REFITTABLE');
      return new FakeRefitter(engine, sinkOf(s));
    },
    createOnnxParser: (n) => new FakeParser(n as FakeNetwork, files),
    createParserRefitter: (r) => new FakeParserRefitter(r as FakeRefitter, files),
    addressOf: fakeAddress,
    LogSink: class extends FakeLogSink {
      constructor(notify: () => void, min: number) {
        super(notify, min);
        sinks.push(this);
      }
    },
    ErrorRecorderBridge: FakeRecorder,
  };
  return {
    info: { addonVersion: '0.1.0', napiVersion: 8, cudaHeaderVersion: '13.0', tensorrt: !options.noTensorRt, tensorrtHeaderVersion: options.noTensorRt ? null : `${major}.16.0` },
    cuda: fakeCuda(options.cuda),
    ...(options.noTensorRt ? {} : { tensorrt }),
    state,
    files,
    sinks,
  };
}

/** The convbn-like model the tests use: two fusion groups and an input with a dynamic batch. */
export const CONVBN: FakeModel = {
  inputs: [{ name: 'input', dtype: 0, dims: [-1, 3, 16, 16] }],
  outputs: [{ name: 'logits', dtype: 0, dims: [-1, 10] }],
  weights: [
    { name: 'c1.weight', type: 0, count: 216, group: 'conv1' },
    { name: 'c1.bias', type: 0, count: 8, group: 'conv1' },
    { name: 'fc.weight', type: 0, count: 80, group: 'fc' },
    { name: 'fc.bias', type: 0, count: 10, group: 'fc' },
  ],
};
