import {
  IDENTICAL_REFIT_TENSORRT,
  byteLengthFor,
  InvalidArgumentError,
  ErrorCode,
  NotRefittableError,
  DisposedError,
  RefitState,
  Severity,
  TensorLocation,
  silentLogger,
  type CudaStream,
  type ErrorRecorder,
  type LayerWeightsRef,
  type Logger,
  type Refitter,
  type Weights,
  type WeightsPrototype,
  type WeightsRole,
  type SetWeights,
} from '@trt-refit/core';
import { EmulatedDeviceBuffer, asEmulated } from './device.js';
import { contentHash, type MockEngine } from './mock-engine.js';

/** `IRefitter` of the mock backend: core's refit state machine, applying weights to a {@link MockEngine}. */
export class MockRefitter implements Refitter {
  private readonly state: RefitState;
  private _disposed = false;

  constructor(readonly engine: MockEngine, logger: Logger = silentLogger) {
    engine.check();
    if (!engine.isRefittable()) throw new NotRefittableError();
    const refittable = engine.plan.weights.filter((w) => w.refittable);
    this.state = new RefitState(
      {
        weights: refittable.map((w) => ({ name: w.name, dtype: w.dtype, count: w.count, dims: w.dims, role: w.role, layer: w.layer })),
        fusionGroups: engine.plan.fusionGroups,
        stripped: refittable.filter((w) => w.stripped && !engine.filled.has(w.name)).map((w) => w.name),
      },
      { logger, tensorrtVersion: engine.tensorrtVersion },
    );
  }

  /** True once {@link MockRefitter.dispose} was called. */
  get disposed(): boolean {
    return this._disposed;
  }
  private get s(): RefitState {
    if (this._disposed) throw new DisposedError('Refitter');
    return this.state;
  }

  /**
   * IRefitter::setNamedWeights: see {@link Refitter.setNamedWeights}. Here: emulated by core's {@link RefitState},
   * which checks the name, type and count against the plan's prototype and the values against `location`
   * (default HOST), returns false with the reason logged and recorded, and holds the weights by reference.
   */
  setNamedWeights(name: string, weights: Weights, location: TensorLocation = TensorLocation.HOST): boolean {
    return this.s.setNamedWeights(name, weights, location);
  }
  /**
   * IRefitter::getNamedWeights: see {@link Refitter.getNamedWeights}. Here: the very weights last set; null weights
   * (and an error to the recorder) when none were set.
   */
  getNamedWeights(name: string): Weights {
    return this.s.getNamedWeights(name);
  }
  /**
   * IRefitter::getWeightsLocation: see {@link Refitter.getWeightsLocation}. Here: the location the weights were set
   * with; HOST (and an error to the recorder) when none were set.
   */
  getWeightsLocation(name: string): TensorLocation {
    return this.s.getWeightsLocation(name);
  }
  /**
   * IRefitter::unsetNamedWeights: see {@link Refitter.unsetNamedWeights}. Here: forgets the weights set for `name`;
   * false when none were set.
   */
  unsetNamedWeights(name: string): boolean {
    return this.s.unsetNamedWeights(name);
  }
  /**
   * IRefitter::getMissingWeights: see {@link Refitter.getMissingWeights}. Here: computed from the plan's fusion
   * groups: the partners of every set weight and of every stripped weight not yet refitted, minus what is set.
   */
  getMissingWeights(): string[] {
    return this.s.getMissingWeights();
  }
  /** IRefitter::getAllWeights: see {@link Refitter.getAllWeights}. Here: the plan's refittable weights, in plan order. */
  getAllWeights(): string[] {
    return this.s.getAllWeights();
  }
  /**
   * IRefitter::getWeightsPrototype: see {@link Refitter.getWeightsPrototype}. Here: type and count recorded in the
   * plan; count -1 for a name that is not refittable.
   */
  getWeightsPrototype(name: string): WeightsPrototype {
    return this.s.getWeightsPrototype(name);
  }
  /**
   * IRefitter::setMaxThreads: see {@link Refitter.setMaxThreads}. Here: only recorded (the emulated refit is
   * single-threaded); false and an INVALID_ARGUMENT error for anything but an integer from 1 to 2^31-1.
   */
  setMaxThreads(n: number): boolean {
    return this.s.setMaxThreads(n);
  }
  /** IRefitter::getMaxThreads: see {@link Refitter.getMaxThreads}. Here: the value last set, 1 by default. */
  getMaxThreads(): number {
    return this.s.getMaxThreads();
  }
  /**
   * IRefitter::setWeightsValidation: see {@link Refitter.setWeightsValidation}. Here: the emulated engine keeps every
   * weight in the type it is given, so, as in TensorRT without a conversion, there is nothing to validate.
   */
  setWeightsValidation(enabled: boolean): void {
    this.s.setWeightsValidation(enabled);
  }
  /** IRefitter::getWeightsValidation: see {@link Refitter.getWeightsValidation}. Here: the value last set, true by default. */
  getWeightsValidation(): boolean {
    return this.s.getWeightsValidation();
  }
  /** IRefitter::setErrorRecorder: see {@link Refitter.setErrorRecorder}. Here: the emulated refitter reports its refusals to it directly. */
  setErrorRecorder(recorder: ErrorRecorder | null): void {
    this.s.setErrorRecorder(recorder);
  }
  /** IRefitter::getErrorRecorder: see {@link Refitter.getErrorRecorder}. Here: the recorder last set, or null. */
  getErrorRecorder(): ErrorRecorder | null {
    return this.s.getErrorRecorder();
  }
  /** IRefitter::getLogger: see {@link Refitter.getLogger}. Here: the logger given to the constructor (silent by default). */
  getLogger(): Logger {
    return this.s.getLogger();
  }
  setWeights(layerName: string, role: WeightsRole, weights: Weights): boolean {
    return this.s.setWeights(layerName, role, weights);
  }
  /** IRefitter::getMissing: see {@link Refitter.getMissing}. Here: {@link MockRefitter.getMissingWeights} as the plan's layer + role pairs. */
  getMissing(): LayerWeightsRef[] {
    return this.s.getMissing();
  }
  /** IRefitter::getAll: see {@link Refitter.getAll}. Here: every refittable weight of the plan as a layer + role pair. */
  getAll(): LayerWeightsRef[] {
    return this.s.getAll();
  }

  refitCudaEngine(): Promise<boolean> {
    const state = this.s;
    this.engine.check();
    return this.engine.exclusive(async () => this.refitNow(state));
  }

  refitCudaEngineAsync(stream: CudaStream): Promise<boolean> {
    const state = this.s;
    this.engine.check();
    // The refit is enqueued on the stream; its boolean comes back once it ran in stream order.
    return asEmulated(stream).enqueue(() => this.engine.exclusive(async () => this.refitNow(state)));
  }

  private fail(state: RefitState, message: string): false {
    state.getLogger().log(Severity.ERROR, message);
    state.getErrorRecorder()?.reportError(ErrorCode.INVALID_ARGUMENT, message);
    return false;
  }

  private refitNow(state: RefitState): boolean {
    const plan = state.planRefit();
    if (!plan.ok) return this.failed(state, plan.reasons.join('; '), true); // planRefit logged and recorded them
    const values = plan.updates.map((u) => ({ u, bytes: bytesOf(u) }));
    // REFIT_IDENTICAL (and STRIP_PLAN alone) promise the build-time weights. TensorRT does not check: other weights
    // give an engine with undefined results. The mock refuses loudly instead (docs/fidelity.md, F-IDENTICAL).
    if (this.engine.mode.refit === 'identical') {
      const byName = new Map(this.engine.plan.weights.map((w) => [w.name, w]));
      const differ = values.filter(({ u, bytes }) => !Buffer.from(contentHash(bytes)).equals(Buffer.from(byName.get(u.name)!.contentHash))).map(({ u }) => u.name);
      if (differ.length) {
        return this.failed(
          state,
          `refit: the engine was built with REFIT_IDENTICAL, but these weights differ from the build-time ones: ${differ.join(', ')}. ` +
            `${IDENTICAL_REFIT_TENSORRT}; the mock refuses it`,
          false,
        );
      }
    }
    for (const { u, bytes } of values) this.engine.apply(u.name, bytes);
    state.commitRefit(values.map(({ u }) => u.name));
    return true;
  }

  /**
   * A refit that returns false: TensorRT says "a subset of weights may have been refitted", so every weight this
   * refit was given is undefined in the engine until a later refit succeeds with it (docs/fidelity.md, F-REFIT-PARTIAL).
   */
  private failed(state: RefitState, reason: string, reported: boolean): false {
    if (!reported) this.fail(state, reason);
    this.engine.markUndefined(state.setEntries().map((e) => e.name), reason);
    return false;
  }

  /** Marks the refitter disposed: later calls throw DisposedError. The engine and the weights set are left as they are. Idempotent. */
  dispose(): void {
    this._disposed = true;
  }
}

function bytesOf(u: SetWeights): Uint8Array {
  const v = u.weights.values;
  if (v === null) return new Uint8Array(0);
  if (v instanceof EmulatedDeviceBuffer) return v.view().subarray(0, byteLengthFor(u.info.dtype, u.weights.count));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new InvalidArgumentError(`weights ${u.name} are in the device memory of another backend`);
}
