import {
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

  get disposed(): boolean {
    return this._disposed;
  }
  private get s(): RefitState {
    if (this._disposed) throw new DisposedError('Refitter');
    return this.state;
  }

  setNamedWeights(name: string, weights: Weights, location: TensorLocation = TensorLocation.HOST): boolean {
    return this.s.setNamedWeights(name, weights, location);
  }
  getNamedWeights(name: string): Weights {
    return this.s.getNamedWeights(name);
  }
  getWeightsLocation(name: string): TensorLocation {
    return this.s.getWeightsLocation(name);
  }
  unsetNamedWeights(name: string): boolean {
    return this.s.unsetNamedWeights(name);
  }
  getMissingWeights(): string[] {
    return this.s.getMissingWeights();
  }
  getAllWeights(): string[] {
    return this.s.getAllWeights();
  }
  getWeightsPrototype(name: string): WeightsPrototype {
    return this.s.getWeightsPrototype(name);
  }
  setMaxThreads(n: number): boolean {
    return this.s.setMaxThreads(n);
  }
  getMaxThreads(): number {
    return this.s.getMaxThreads();
  }
  setWeightsValidation(enabled: boolean): void {
    this.s.setWeightsValidation(enabled);
  }
  getWeightsValidation(): boolean {
    return this.s.getWeightsValidation();
  }
  setErrorRecorder(recorder: ErrorRecorder | null): void {
    this.s.setErrorRecorder(recorder);
  }
  getErrorRecorder(): ErrorRecorder | null {
    return this.s.getErrorRecorder();
  }
  getLogger(): Logger {
    return this.s.getLogger();
  }
  setWeights(layerName: string, role: WeightsRole, weights: Weights): boolean {
    return this.s.setWeights(layerName, role, weights);
  }
  getMissing(): LayerWeightsRef[] {
    return this.s.getMissing();
  }
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
    if (!plan.ok) return false;
    const values = plan.updates.map((u) => ({ u, bytes: bytesOf(u) }));
    // A REFIT_IDENTICAL engine promises identical weights: the mock checks instead of computing garbage.
    if (this.engine.mode.refit === 'identical') {
      const byName = new Map(this.engine.plan.weights.map((w) => [w.name, w]));
      const differ = values.filter(({ u, bytes }) => !Buffer.from(contentHash(bytes)).equals(Buffer.from(byName.get(u.name)!.contentHash))).map(({ u }) => u.name);
      if (differ.length) return this.fail(state, `refit: the engine was built with REFIT_IDENTICAL, but these weights differ from the build-time ones: ${differ.join(', ')}`);
    }
    for (const { u, bytes } of values) this.engine.apply(u.name, bytes);
    state.commitRefit(values.map(({ u }) => u.name));
    return true;
  }

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
