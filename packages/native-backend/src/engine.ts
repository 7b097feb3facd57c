import {
  DataType,
  EngineStat,
  requireFeature,
  writeFileAtomic,
  type CudaEngine,
  type EngineLayerInfo,
  type IdentityManifest,
  type SerializationConfig,
} from '@trt-refit/core';
import type { NativeEngine as RawEngine } from './binding.js';
import type { NativeContext } from './context.js';
import type { LogBridge } from './diagnostics.js';
import { parseEngineLayers } from './engine-inspector.js';
import { NativeExecutionContext } from './execution-context.js';
import { IO_MODE, dataTypeName, engineStatNumber } from './native-enums.js';
import { NativeResource } from './native-resource.js';
import { SerialQueue } from './serial-queue.js';
import { NativeSerializationConfig } from './serialization-config.js';
import { typeError } from './validate.js';

/** An engine I/O tensor as core describes it. */
export interface IOTensorInfo {
  name: string;
  mode: 'INPUT' | 'OUTPUT';
  dtype: DataType;
  dims: (number | string)[];
}

/**
 * `ICudaEngine` of the native backend. Refits and executions of one engine run one at a time (TensorRT's refit
 * is undefined behaviour with work pending on the engine).
 */
export class NativeCudaEngine extends NativeResource<RawEngine> implements CudaEngine {
  /** @internal Serializes refits and executions of this engine. */
  readonly queue = new SerialQueue();
  #io: IOTensorInfo[] | undefined;
  readonly #contexts = new Set<NativeExecutionContext>();
  #identity: IdentityManifest | null = null;

  /** @internal */
  constructor(
    native: RawEngine,
    log: LogBridge,
    private readonly ctx: NativeContext,
  ) {
    super(native, log, 'CudaEngine');
  }

  /** @internal */
  raw(): RawEngine {
    return this.live();
  }

  /**
   * The build-time weight hashes of a REFIT_IDENTICAL engine (trt-refit extension): refits of this engine are
   * checked against them before TensorRT sees them, as TensorRT itself does not check. Set automatically for a plan
   * built in this process; give it for a plan read from a file (the CLI keeps it as `<plan>.identity.json`).
   */
  setIdentityManifest(manifest: IdentityManifest | null): void {
    this.live();
    this.#identity = manifest;
  }

  /** The identity manifest in effect, or null. */
  getIdentityManifest(): IdentityManifest | null {
    return this.#identity;
  }

  /** `serializeWithConfig` (default config when none is given) written to `path` through a temporary file. */
  async serializeToFile(path: string, config?: SerializationConfig): Promise<number> {
    const bytes = this.serializeWithConfig(config ?? this.createSerializationConfig());
    return writeFileAtomic(path, [bytes]);
  }

  /** ICudaEngine::isRefittable: see {@link CudaEngine.isRefittable}. Here: TensorRT's answer. */
  isRefittable(): boolean {
    return this.call((n) => n.isRefittable());
  }

  /** ICudaEngine::createSerializationConfig: see {@link CudaEngine.createSerializationConfig}. Here: TensorRT's config, flags by name. */
  createSerializationConfig(): NativeSerializationConfig {
    return new NativeSerializationConfig(
      this.call((n) => n.createSerializationConfig()),
      this.log,
      this.ctx.version,
    );
  }

  /**
   * ICudaEngine::serializeWithConfig: see {@link CudaEngine.serializeWithConfig}. Here: synchronous; `config` must
   * come from this backend; the result is a zero-copy view of TensorRT's `IHostMemory`.
   */
  serializeWithConfig(config: SerializationConfig): Uint8Array {
    if (!(config instanceof NativeSerializationConfig)) throw typeError('config', 'a SerializationConfig from engine.createSerializationConfig()', config);
    const raw = config.raw();
    return this.call((n) => n.serializeWithConfig(raw));
  }

  /** ICudaEngine::serialize: see {@link CudaEngine.serialize}. Here: synchronous; a zero-copy view of TensorRT's `IHostMemory`. */
  serialize(): Uint8Array {
    return this.call((n) => n.serialize());
  }

  /** `getEngineStat` (10.14+): STRIPPED_WEIGHTS_SIZE is -1 for an engine that was not stripped. */
  getEngineStat(stat: EngineStat): number {
    if (stat !== EngineStat.TOTAL_WEIGHTS_SIZE && stat !== EngineStat.STRIPPED_WEIGHTS_SIZE) {
      throw typeError('stat', 'an EngineStat (TOTAL_WEIGHTS_SIZE, STRIPPED_WEIGHTS_SIZE)', stat);
    }
    requireFeature(this.ctx.version, 'ICudaEngine.getEngineStat');
    return this.call((n) => n.getEngineStat(engineStatNumber(stat)));
  }

  /** The layers after fusion, from TensorRT's engine inspector. */
  getLayers(): EngineLayerInfo[] {
    return parseEngineLayers(this.call((n) => n.getEngineInformation()));
  }

  /** The engine inspector's raw JSON. */
  getEngineInformation(): string {
    return this.call((n) => n.getEngineInformation());
  }

  /**
   * The engine's input and output tensors: see {@link CudaEngine.getIOTensors}. Here: read from TensorRT once and
   * cached; each call returns fresh copies. Dynamic dimensions are -1.
   */
  getIOTensors(): IOTensorInfo[] {
    if (!this.#io) {
      this.#io = this.call((n) => n.getIOTensors())
        .filter((t) => t.mode === IO_MODE.INPUT || t.mode === IO_MODE.OUTPUT)
        .map((t) => ({ name: t.name, mode: t.mode === IO_MODE.INPUT ? 'INPUT' : 'OUTPUT', dtype: dataTypeName(t.dtype) ?? DataType.FLOAT, dims: t.dims }));
    }
    return this.#io.map((t) => ({ ...t, dims: [...t.dims] }));
  }

  /**
   * ICudaEngine::createExecutionContext: see {@link CudaEngine.createExecutionContext}. Here: TensorRT's context;
   * disposed with the engine.
   */
  createExecutionContext(): NativeExecutionContext {
    const context = new NativeExecutionContext(
      this.call((n) => n.createExecutionContext()),
      this.log,
      this,
    );
    this.#contexts.add(context);
    return context;
  }

  /** Contexts go with their engine: disposing the engine disposes them. */
  protected override onDispose(): void {
    for (const c of this.#contexts) c.dispose();
    this.#contexts.clear();
  }
}
