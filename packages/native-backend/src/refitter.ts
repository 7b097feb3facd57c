import {
  IDENTICAL_REFIT_TENSORRT,
  weightsNameProblem,
  identityDifferences,
  DataType,
  DisposedError,
  ErrorCode,
  InvalidStateError,
  NULL_WEIGHTS,
  Severity,
  TensorLocation,
  WeightsRole,
  byteLengthFor,
  isDeviceValues,
  weightsProblem,
  type CudaStream,
  type ErrorRecorder,
  type LayerWeightsRef,
  type Logger,
  type Refitter,
  type Weights,
  type WeightsPrototype,
} from '@trt-refit/core';
import type { NativeDeviceBuffer as RawBuffer, NativeRefitter as RawRefitter } from './binding.js';
import type { NativeContext } from './context.js';
import { nativeBufferOf, nativeStreamOf } from './device.js';
import { RecorderBridge, type LogBridge } from './diagnostics.js';
import type { NativeCudaEngine } from './engine.js';
import { dataTypeName, dataTypeNumber, locationName, locationNumber, roleName, roleNumber } from './native-enums.js';
import { NativeResource } from './native-resource.js';
import { SerialQueue, runExclusive } from './serial-queue.js';
import { expectBoolean, expectInteger, expectString, typeError } from './validate.js';

const ROLES = new Set<string>(Object.values(WeightsRole));

/**
 * `IRefitter` of the native backend, with TensorRT's semantics: booleans, reasons in the logger and the error
 * recorder. What the adapter adds before anything reaches C++:
 * - malformed weights (wrong byte length for type and count, a disposed or foreign device buffer, HOST/DEVICE
 *   mismatch) are refused as `false` with the reason logged and recorded, so TensorRT never reads past a buffer;
 * - every buffer set stays referenced here until it is unset, replaced or the refitter is disposed (TensorRT keeps
 *   the pointer), and `getNamedWeights` returns the very object that was set;
 * - refits run on a worker thread, one at a time per refitter and per engine; synchronous calls made while one
 *   runs throw InvalidStateError (TensorRT's refitter is not thread-safe);
 * - before a refit, buffers that were disposed or detached since they were set are reported and the refit is
 *   refused, instead of TensorRT reading freed memory.
 */
export class NativeRefitter extends NativeResource<RawRefitter> implements Refitter {
  /** @internal Serializes this refitter's asynchronous calls (refits and parser-refitter calls). */
  readonly queue = new SerialQueue();
  /** Weights TensorRT holds pointers to, by name (legacy setWeights: by `layer\0role`). */
  readonly #held = new Map<string, Weights>();
  readonly #heldLegacy = new Map<string, Weights>();
  /** Other memory TensorRT points into for the refitter's lifetime (parser-refitter initializers). */
  readonly #keep: ArrayBufferView[] = [];
  #recorder: ErrorRecorder | null = null;
  readonly #children = new Set<{ dispose(): void }>();

  /** @internal */
  constructor(
    native: RawRefitter,
    log: LogBridge,
    readonly engine: NativeCudaEngine,
    private readonly ctx: NativeContext,
  ) {
    super(native, log, 'Refitter');
  }

  /** @internal The native refitter, checked live and idle. */
  raw(): RawRefitter {
    return this.idle();
  }

  /** @internal Keeps `data` referenced until the refitter is disposed. */
  keepAlive(data: ArrayBufferView): void {
    this.#keep.push(data);
  }

  /** @internal Parser refitters created on this refitter go with it. */
  adopt(child: { dispose(): void }): void {
    this.#children.add(child);
  }

  private idle(): RawRefitter {
    const n = this.live();
    if (this.queue.busy) {
      throw new InvalidStateError('the refitter is busy with an asynchronous call (refit or parser refit); await it first');
    }
    return n;
  }

  /** Logs and records a refusal the adapter decided itself, as TensorRT does for its own. */
  private refuse(reason: string, code: ErrorCode = ErrorCode.INVALID_ARGUMENT): false {
    this.log.logger.log(Severity.ERROR, reason);
    try {
      this.#recorder?.reportError(code, reason);
    } catch {
      // A recorder must not throw; ignore one that does.
    }
    return false;
  }

  /**
   * IRefitter::setNamedWeights: see {@link Refitter.setNamedWeights}. Here: validated in TS first (name, byte length
   * for type and count, host values with HOST, this backend's DeviceBuffer with DEVICE; a refusal is `false` with
   * the reason logged and recorded), then `IRefitter::setNamedWeights` in TensorRT. On success the weights stay
   * referenced until unset, replaced or the refitter is disposed. Throws InvalidStateError while a refit runs.
   */
  setNamedWeights(name: string, weights: Weights, location?: TensorLocation): boolean {
    this.idle();
    expectString(name, 'name');
    if (location !== undefined && location !== TensorLocation.DEVICE && location !== TensorLocation.HOST) {
      throw typeError('location', 'TensorLocation.HOST or TensorLocation.DEVICE', location);
    }
    const badName = weightsNameProblem(name);
    if (badName) {
      return this.refuse(`setNamedWeights: ${JSON.stringify(name.slice(0, 40))} is not a valid weights name (${badName})`);
    }
    const problem = weightsProblem(weights);
    if (problem) return this.refuse(`setNamedWeights(${JSON.stringify(name)}): ${problem}`);
    const resolved = this.resolveValues(`setNamedWeights(${JSON.stringify(name)})`, weights, location);
    if (!resolved) return false;
    const ok = this.call((n) => n.setNamedWeights(name, dataTypeNumber(weights.type), resolved.values, weights.count, locationNumber(resolved.location)));
    if (ok) this.#held.set(name, weights);
    return ok;
  }

  /** The native values and location of well-formed weights, or a logged refusal. */
  private resolveValues(
    what: string,
    weights: Weights,
    location: TensorLocation | undefined,
  ): { values: ArrayBufferView | RawBuffer | null; location: TensorLocation } | undefined {
    const v = weights.values;
    if (v === null) return { values: null, location: location ?? TensorLocation.HOST };
    if (isDeviceValues(v)) {
      if (location === TensorLocation.HOST) {
        this.refuse(`${what}: the values are a DeviceBuffer but location is HOST`);
        return undefined;
      }
      const raw = nativeBufferOf(v);
      if (!raw) {
        this.refuse(`${what}: the DeviceBuffer was not allocated by this backend (backend.device.allocate); TensorRT needs real device memory`);
        return undefined;
      }
      return { values: raw, location: TensorLocation.DEVICE };
    }
    if (location === TensorLocation.DEVICE) {
      this.refuse(`${what}: location is DEVICE but the values are host memory; upload them with backend.device.fromHost()`);
      return undefined;
    }
    return { values: v as ArrayBufferView, location: TensorLocation.HOST };
  }

  /**
   * IRefitter::getNamedWeights: see {@link Refitter.getNamedWeights}. Here: the very object that was set while
   * TensorRT still points at its values; otherwise a host copy of what TensorRT holds (e.g. weights a parser
   * refitter converted), or `NULL_WEIGHTS` when nothing is set.
   */
  getNamedWeights(name: string): Weights {
    this.idle();
    expectString(name, 'name');
    const held = this.#held.get(name);
    if (held && this.stillUsed(name, held)) return held;
    if (held) this.#held.delete(name);
    const copy = this.call((n) => n.copyNamedWeights(name));
    if (!copy) return NULL_WEIGHTS;
    const info = this.call((n) => n.namedWeights(name));
    const type = (info && dataTypeName(info.type)) ?? DataType.FLOAT;
    // Weights a parser refitter converted live in its memory: JS gets a copy, never a view it could outlive.
    return { type, values: copy, count: info?.count ?? 0 };
  }

  /** True when TensorRT still points at the values of `held` (a parser refitter may have replaced them). */
  private stillUsed(name: string, held: Weights): boolean {
    const current = this.call((n) => n.namedWeights(name));
    if (!current || held.values === null) return false;
    const values = isDeviceValues(held.values) ? nativeBufferOf(held.values) : (held.values as ArrayBufferView);
    if (values === undefined) return false;
    return this.ctx.tensorrt.addressOf(values) === current.address;
  }

  /** @internal Drops held weights TensorRT no longer uses (after a parser refitter set its own). */
  reconcile(): void {
    for (const [name, w] of [...this.#held]) if (!this.stillUsed(name, w)) this.#held.delete(name);
  }

  /** IRefitter::getWeightsLocation: see {@link Refitter.getWeightsLocation}. Here: TensorRT's answer, mapped to a name. */
  getWeightsLocation(name: string): TensorLocation {
    this.idle();
    expectString(name, 'name');
    return locationName(this.call((n) => n.getWeightsLocation(name)));
  }

  /**
   * IRefitter::unsetNamedWeights: see {@link Refitter.unsetNamedWeights}. Here: crosses into TensorRT; when it
   * accepts, the adapter stops referencing the weights that were set.
   */
  unsetNamedWeights(name: string): boolean {
    this.idle();
    expectString(name, 'name');
    const ok = this.call((n) => n.unsetNamedWeights(name));
    if (ok) this.#held.delete(name);
    return ok;
  }

  /** IRefitter::getMissingWeights: see {@link Refitter.getMissingWeights}. Here: TensorRT's list, unchanged. */
  getMissingWeights(): string[] {
    this.idle();
    return this.call((n) => n.getMissingWeights());
  }

  /** IRefitter::getAllWeights: see {@link Refitter.getAllWeights}. Here: TensorRT's list, unchanged. */
  getAllWeights(): string[] {
    this.idle();
    return this.call((n) => n.getAllWeights());
  }

  /**
   * IRefitter::getWeightsPrototype: see {@link Refitter.getWeightsPrototype}. Here: TensorRT's type and count, the
   * type mapped to a name (FLOAT for a number this package does not know).
   */
  getWeightsPrototype(name: string): WeightsPrototype {
    this.idle();
    expectString(name, 'name');
    const p = this.call((n) => n.getWeightsPrototype(name));
    return { type: dataTypeName(p.type) ?? DataType.FLOAT, count: p.count };
  }

  /** Problems of held buffers that would make TensorRT read freed or detached memory. */
  private heldProblems(): string[] {
    const out: string[] = [];
    const manifest = this.engine.getIdentityManifest();
    if (manifest) {
      const host = [...this.#held].flatMap(([name, w]) => (ArrayBuffer.isView(w.values) ? [{ name, bytes: new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength) }] : []));
      const differ = identityDifferences(manifest, host);
      if (differ.length) out.push(`the engine was built with REFIT_IDENTICAL, but these weights differ from the build-time ones: ${differ.join(', ')}. ${IDENTICAL_REFIT_TENSORRT}; trt-refit refuses it`);
      const device = [...this.#held].filter(([name, w]) => isDeviceValues(w.values) && manifest.weights[name] !== undefined).map(([n]) => n);
      if (device.length) this.log.logger.log(Severity.WARNING, `REFIT_IDENTICAL engine: device weights are not checked against the build-time ones (${device.join(', ')})`);
    }
    for (const [key, w] of [...this.#held, ...this.#heldLegacy]) {
      const v = w.values;
      if (v === null) continue;
      if (isDeviceValues(v)) {
        if (v.disposed) out.push(`weights ${JSON.stringify(key)}: the DeviceBuffer was disposed after it was set; set the weights again or unset them`);
      } else if ((v as ArrayBufferView).byteLength !== byteLengthFor(w.type, w.count)) {
        out.push(`weights ${JSON.stringify(key)}: the host buffer was detached or resized after it was set`);
      }
    }
    return out;
  }

  private async refit(run: (n: RawRefitter) => Promise<boolean>): Promise<boolean> {
    this.live();
    if (this.engine.disposed) throw new DisposedError('CudaEngine');
    return runExclusive([this.queue, this.engine.queue], async () => {
      const problems = this.heldProblems();
      if (problems.length) {
        for (const p of problems) this.refuse(`refit refused: ${p}`, ErrorCode.INVALID_STATE);
        return false;
      }
      return this.callAsync(run);
    });
  }

  /** Refits on a worker thread; false when weights are missing or validation fails (TensorRT's reason logged). */
  refitCudaEngine(): Promise<boolean> {
    return this.refit((n) => n.refitCudaEngine());
  }

  /**
   * Enqueues the refit on `stream`; resolves once enqueued. Device weights may be updated afterwards only by work
   * enqueued on the same stream.
   */
  refitCudaEngineAsync(stream: CudaStream): Promise<boolean> {
    let raw: ReturnType<typeof nativeStreamOf>;
    try {
      raw = nativeStreamOf(stream);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.refit((n) => n.refitCudaEngineAsync(raw));
  }

  /** IRefitter::setMaxThreads: see {@link Refitter.setMaxThreads}. Here: `n` checked to be an integer, then TensorRT's answer. */
  setMaxThreads(n: number): boolean {
    this.idle();
    const threads = expectInteger(n, 'n');
    return this.call((r) => r.setMaxThreads(threads));
  }

  /** IRefitter::getMaxThreads: see {@link Refitter.getMaxThreads}. Here: TensorRT's value. */
  getMaxThreads(): number {
    this.idle();
    return this.call((n) => n.getMaxThreads());
  }

  /** IRefitter::setWeightsValidation: see {@link Refitter.setWeightsValidation}. Here: `enabled` checked to be a boolean, then passed to TensorRT. */
  setWeightsValidation(enabled: boolean): void {
    this.idle();
    const e = expectBoolean(enabled, 'enabled');
    this.call((n) => n.setWeightsValidation(e));
  }

  /** IRefitter::getWeightsValidation: see {@link Refitter.getWeightsValidation}. Here: TensorRT's value. */
  getWeightsValidation(): boolean {
    this.idle();
    return this.call((n) => n.getWeightsValidation());
  }

  /**
   * IRefitter::setErrorRecorder: see {@link Refitter.setErrorRecorder}. Here: TensorRT gets a native
   * `IErrorRecorder` whose reports are forwarded to `recorder` after each call and, for reports made on worker
   * threads, when the addon nudges; the previous bridge is closed. The adapter's own refusals are recorded too.
   */
  setErrorRecorder(recorder: ErrorRecorder | null): void {
    this.idle();
    if (recorder !== null && (typeof recorder !== 'object' || typeof recorder.reportError !== 'function')) {
      throw typeError('recorder', 'an ErrorRecorder or null', recorder);
    }
    const bridge = recorder ? new RecorderBridge(this.ctx.tensorrt, recorder) : undefined;
    this.call((n) => n.setErrorRecorder(bridge?.native ?? null));
    this.recorderBridge?.close();
    this.recorderBridge = bridge;
    this.#recorder = recorder;
  }

  /** IRefitter::getErrorRecorder: see {@link Refitter.getErrorRecorder}. Here: the JS recorder last set, or null. */
  getErrorRecorder(): ErrorRecorder | null {
    this.live();
    return this.#recorder;
  }

  /** IRefitter::getLogger: see {@link Refitter.getLogger}. Here: the JS logger TensorRT's messages for this refitter go to. */
  getLogger(): Logger {
    this.live();
    return this.log.logger;
  }

  setWeights(layerName: string, role: WeightsRole, weights: Weights): boolean {
    this.idle();
    expectString(layerName, 'layerName');
    if (typeof role !== 'string' || !ROLES.has(role)) throw typeError('role', `a WeightsRole (${[...ROLES].join(', ')})`, role);
    const problem = weightsProblem(weights);
    if (problem) return this.refuse(`setWeights(${JSON.stringify(layerName)}, ${role}): ${problem}`);
    if (weights.values !== null && isDeviceValues(weights.values)) {
      return this.refuse(`setWeights(${JSON.stringify(layerName)}, ${role}): the legacy API takes host weights only; use setNamedWeights with TensorLocation.DEVICE`);
    }
    const values = weights.values as ArrayBufferView | null;
    const ok = this.call((n) => n.setWeights(layerName, roleNumber(role), dataTypeNumber(weights.type), values, weights.count));
    if (ok) this.#heldLegacy.set(`${layerName}\0${role}`, weights);
    return ok;
  }

  /** IRefitter::getMissing: see {@link Refitter.getMissing}. Here: TensorRT's layer + role pairs, roles mapped to names. */
  getMissing(): LayerWeightsRef[] {
    this.idle();
    return this.call((n) => n.getMissing()).map((r) => ({ layerName: r.layerName, role: roleName(r.role) }));
  }

  /** IRefitter::getAll: see {@link Refitter.getAll}. Here: TensorRT's layer + role pairs, roles mapped to names. */
  getAll(): LayerWeightsRef[] {
    this.idle();
    return this.call((n) => n.getAll()).map((r) => ({ layerName: r.layerName, role: roleName(r.role) }));
  }

  /** @internal Names held by reference (for tests and diagnostics). */
  heldNames(): string[] {
    return [...this.#held.keys()];
  }

  protected override onDispose(): void {
    for (const c of this.#children) c.dispose();
    this.#children.clear();
    const release = () => {
      this.#held.clear();
      this.#heldLegacy.clear();
      this.#keep.length = 0;
    };
    // A refit in flight still reads the buffers: let go of them only once it is done.
    if (this.queue.busy) void this.queue.run(async () => release());
    else release();
  }
}
