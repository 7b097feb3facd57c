import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import {
  BuilderFlag,
  DisposedError,
  EngineStat,
  InvalidFlagsError,
  TrtRefitError,
  TrtRefitErrorCode,
  UndefinedBehaviorError,
  byteLengthFor,
  checkSerializationFlags,
  defaultSerializationFlags,
  requireFeature,
  resolveBuildMode,
  serializedProperties,
  type BuildMode,
  type CudaEngine,
  type EngineLayerInfo,
  type ExecutionContext,
  type SerializationConfig,
  SerializationFlag,
} from '@trt-refit/core';
import { MockSerializationConfig } from './serialization-config.js';
import { writePlan, writePlanFile, type PlanContents } from './plan-file.js';
import { executeLayers, unsupportedLayers } from './exec/index.js';

const REFIT_FLAGS = new Set<string>([BuilderFlag.REFIT, BuilderFlag.REFIT_IDENTICAL, BuilderFlag.REFIT_INDIVIDUAL, BuilderFlag.STRIP_PLAN]);

/** A deserialized mock engine: the plan's facts and the engine's current weights. */
export class MockEngine implements CudaEngine {
  private _disposed = false;
  /** Current values of every weight (stripped, never-refitted weights are absent and read as zeros). */
  private readonly store = new Map<string, Uint8Array>();
  private readonly byName: Map<string, PlanContents['weights'][number]>;
  /** Weights whose current values live in memory the engine allocated (not the plan's bytes). */
  private readonly owned = new Set<string>();
  /** Stripped weights a refit has filled since deserialization. */
  readonly filled = new Set<string>();
  /**
   * Weights whose values TensorRT leaves undefined: those a failed refit was given ("If false is returned, a subset
   * of weights may have been refitted", NvInferRuntime.h `IRefitter::refitCudaEngine`). A later successful refit of
   * a weight defines it again; until then execution and serialization refuse (docs/fidelity.md, F-REFIT-PARTIAL).
   */
  private readonly undefinedWeights = new Map<string, string>();
  readonly mode: BuildMode;
  /** Refits and executions on this engine run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly plan: PlanContents, readonly tensorrtVersion: string) {
    this.mode = resolveBuildMode(plan.builderFlags as BuilderFlag[], plan.tensorrtVersion);
    this.byName = new Map(plan.weights.map((w) => [w.name, w]));
    for (const w of plan.weights) if (w.data) this.store.set(w.name, w.data);
  }

  /** True once {@link MockEngine.dispose} was called. */
  get disposed(): boolean {
    return this._disposed;
  }
  /** @internal */
  check(): void {
    if (this._disposed) throw new DisposedError('CudaEngine');
  }
  /** @internal runs `work` after every refit or execution queued before it. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
  /** @internal the weight's current values: its data, or zeros while stripped and not refitted. */
  valuesOf(name: string): Uint8Array {
    const v = this.store.get(name);
    if (v) return v;
    const w = this.weightInfo(name);
    return new Uint8Array(byteLengthFor(w.dtype, w.count));
  }
  /** @internal */
  weightInfo(name: string) {
    const w = this.byName.get(name);
    if (!w) throw new TrtRefitError(TrtRefitErrorCode.INVALID_STATE, `the engine has no weight ${name}`);
    return w;
  }
  /** CRC-32 of a weight's current values: the plan's own while unchanged, else computed once per refit. */
  private crcOf(name: string): number | undefined {
    if (!this.owned.has(name)) return this.byName.get(name)?.crc32;
    let c = this.crcs.get(name);
    if (c === undefined) {
      c = crc32(this.store.get(name)!);
      this.crcs.set(name, c);
    }
    return c;
  }
  private readonly crcs = new Map<string, number>();

  /** @internal records that a failed refit may have applied (a subset of) `names`, as TensorRT allows. */
  markUndefined(names: readonly string[], reason: string): void {
    for (const n of names) this.undefinedWeights.set(n, reason);
  }
  /** @internal throws UndefinedBehaviorError while a failed refit left weights undefined. */
  checkDefined(what: string): void {
    if (this.undefinedWeights.size === 0) return;
    const names = [...this.undefinedWeights.keys()];
    const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? `, … (${names.length - 10} more)` : '');
    throw new UndefinedBehaviorError(
      `${what}: a failed refit left ${names.length} weight(s) undefined (${shown}); refit them successfully first`,
      'after refitCudaEngine() returns false "a subset of weights may have been refitted" (NvInferRuntime.h); it would run with whatever mix resulted',
      { weights: names, reason: [...this.undefinedWeights.values()][0] },
    );
  }

  /**
   * @internal applies refitted values. The engine keeps its own copy, as TensorRT copies weights into the engine's
   * memory: the first refit of a weight allocates it (the plan's bytes, which the caller owns, are never written),
   * later refits copy into the same memory.
   */
  apply(name: string, bytes: Uint8Array): void {
    this.crcs.delete(name);
    const mine = this.owned.has(name) ? this.store.get(name) : undefined;
    if (mine && mine.byteLength === bytes.byteLength) mine.set(bytes);
    else {
      this.store.set(name, bytes.slice());
      this.owned.add(name);
    }
    this.filled.add(name);
    this.undefinedWeights.delete(name);
  }

  /** ICudaEngine::isRefittable: see {@link CudaEngine.isRefittable}. Here: whether the plan was built (and serialized) refittable. */
  isRefittable(): boolean {
    this.check();
    return this.plan.refittable;
  }
  /**
   * ICudaEngine::createSerializationConfig: see {@link CudaEngine.createSerializationConfig}. Here: an emulated
   * config holding the build mode's default flags (EXCLUDE_WEIGHTS for a stripped build, EXCLUDE_LEAN_RUNTIME when
   * the build excluded it); UnsupportedFeatureError before the TensorRT version that introduced it.
   */
  createSerializationConfig(): SerializationConfig {
    this.check();
    requireFeature(this.tensorrtVersion, 'ICudaEngine.createSerializationConfig');
    return new MockSerializationConfig(this.tensorrtVersion, defaultSerializationFlags(this.mode).filter((f) => f !== 'EXCLUDE_WEIGHTS' || this.plan.strippedBuild));
  }
  /**
   * ICudaEngine::serialize: see {@link CudaEngine.serialize}. Here: {@link MockEngine.serializeWithConfig} with
   * the default config, except for a weight-stripped engine whose stripped weights have all been refitted: that
   * writes the full engine (not refittable without INCLUDE_REFIT), as ONNX Runtime's TensorRT EP relies on (its
   * PR 20412). The header does not say what `serialize()` writes for a stripped engine, so while stripped weights
   * are still unrefitted it refuses with UndefinedBehaviorError (docs/fidelity.md, F-SERIALIZE-STRIPPED).
   */
  serialize(): Uint8Array {
    this.check();
    const config = this.createSerializationConfig();
    if (this.plan.strippedBuild) {
      const unfilled = this.plan.weights.filter((w) => w.stripped && !this.filled.has(w.name)).map((w) => w.name);
      if (unfilled.length) {
        throw new UndefinedBehaviorError(
          `serialize() of a weight-stripped engine with ${unfilled.length} stripped weight(s) never refitted (${unfilled.slice(0, 10).join(', ')}); use serializeWithConfig to say what to write`,
          'NvInferRuntime.h does not say what serialize() writes for a weight-stripped engine',
          { weights: unfilled },
        );
      }
      config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
    }
    return this.serializeWithConfig(config);
  }
  /**
   * ICudaEngine::serializeWithConfig: see {@link CudaEngine.serializeWithConfig}. Here: writes a mock plan (the
   * format `readPlan` reads) with the engine's current weights, honouring the flags (excluded weights are left out);
   * InvalidFlagsError for a combination TensorRT refuses.
   */
  serializeWithConfig(config: SerializationConfig): Uint8Array {
    return writePlan(this.planFor(config));
  }
  /**
   * What `serializeWithConfig` returns, written to `path` without assembling the plan in memory (each weight goes
   * from the engine's memory to the file), through a temporary file renamed into place. Resolves to its size.
   *
   * @example
   * ```ts
   * const config = engine.createSerializationConfig();
   * config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
   * await engine.serializeToFile('model.plan', config); // a full plan of tens of GB, never whole in host memory
   * ```
   */
  async serializeToFile(path: string, config: SerializationConfig = this.createSerializationConfig()): Promise<number> {
    return writePlanFile(path, this.planFor(config));
  }
  private planFor(config: SerializationConfig): PlanContents {
    this.check();
    this.checkDefined('serialize');
    const flags = config.getFlags();
    const { violations } = checkSerializationFlags(flags, { refittable: this.plan.refittable }, this.tensorrtVersion);
    if (violations.length) throw new InvalidFlagsError(violations);
    const props = serializedProperties(this.mode, flags);
    const weights = this.plan.weights.map((w) => {
      const excluded = !props.weightsIncluded && w.refittable && (this.mode.strip === 'none' || w.stripped);
      return {
        ...w,
        refittable: props.refittable && w.refittable,
        stripped: excluded,
        fusionGroup: props.refittable ? w.fusionGroup : -1,
        data: excluded ? null : this.valuesOf(w.name),
        crc32: excluded ? undefined : this.crcOf(w.name),
      };
    });
    const plan: PlanContents = {
      ...this.plan,
      serializationFlags: flags,
      refittable: props.refittable,
      weightsExcluded: !props.weightsIncluded,
      // A full plan of a stripped engine is an ordinary engine: refittable only with INCLUDE_REFIT.
      builderFlags: props.refittable ? this.plan.builderFlags : this.plan.builderFlags.filter((f) => !REFIT_FLAGS.has(f)),
      strippedBuild: props.refittable ? this.plan.strippedBuild && !props.weightsIncluded : false,
      leanRuntime: this.plan.versionCompatible ? (props.leanRuntimeIncluded ? 'embedded' : 'excluded') : 'none',
      weights,
      fusionGroups: props.refittable ? this.plan.fusionGroups : [],
    };
    return plan;
  }
  getEngineStat(stat: EngineStat): number {
    this.check();
    requireFeature(this.tensorrtVersion, 'ICudaEngine.getEngineStat');
    const bytes = (ws: typeof this.plan.weights) => ws.reduce((s, w) => s + byteLengthFor(w.dtype, w.count), 0);
    if (stat === EngineStat.TOTAL_WEIGHTS_SIZE) return bytes(this.plan.weights);
    if (stat === EngineStat.STRIPPED_WEIGHTS_SIZE) return this.plan.strippedBuild ? bytes(this.plan.weights.filter((w) => w.stripped)) : -1;
    throw new TrtRefitError(TrtRefitErrorCode.INVALID_ARGUMENT, `unknown EngineStat ${String(stat)}`);
  }
  getLayers(): EngineLayerInfo[] {
    this.check();
    return this.plan.engineLayers.map((l) => ({ ...l }));
  }
  /** The engine's inputs then outputs, as recorded in the plan: see {@link CudaEngine.getIOTensors}. */
  getIOTensors() {
    this.check();
    return [
      ...this.plan.inputs.map((t) => ({ name: t.name, mode: 'INPUT' as const, dtype: t.dtype, dims: [...t.dims] })),
      ...this.plan.outputs.map((t) => ({ name: t.name, mode: 'OUTPUT' as const, dtype: t.dtype, dims: [...t.dims] })),
    ];
  }
  /**
   * ICudaEngine::createExecutionContext: see {@link CudaEngine.createExecutionContext}. Here: an emulated context
   * that runs the plan's network layers on the CPU with the engine's current weights (zeros while stripped), one
   * execution or refit of this engine at a time.
   */
  createExecutionContext(): ExecutionContext {
    this.check();
    const engine = this;
    let disposed = false;
    return {
      get disposed() {
        return disposed;
      },
      dispose() {
        disposed = true;
      },
      async execute(inputs) {
        if (disposed) throw new DisposedError('ExecutionContext');
        engine.check();
        engine.checkDefined('execute');
        const missing = unsupportedLayers(engine.plan.networkLayers);
        if (missing.length) {
          throw new TrtRefitError(TrtRefitErrorCode.EXECUTION_FAILED, `the mock's CPU executor cannot run ${missing.map((u) => `layer ${u.name} (op ${u.type})`).join(', ')}; the engine is built and refittable, only execution is not emulated`, { unsupported: missing });
        }
        // Executions and refits on one engine never interleave: an execution sees the weights of one refit.
        return engine.exclusive(async () => executeLayers(engine.plan.networkLayers, engine.plan, inputs, (name) => {
          const w = engine.weightInfo(name);
          return { bytes: engine.valuesOf(name), dtype: w.dtype, dims: w.dims };
        }));
      },
    };
  }
  /** Marks the engine disposed: later calls throw DisposedError. Idempotent. */
  dispose(): void {
    this._disposed = true;
  }
}

/** SHA-256 of weight values: the identity a REFIT_IDENTICAL engine compares refit weights against. */
export function contentHash(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

