import type { DataType } from './data-type.js';
import type { CudaStream, DeviceApi } from './device.js';
import type { BuilderFlag, EngineStat, SerializationFlag, TensorLocation, WeightsRole } from './enums.js';
import type { ErrorRecorder, Logger } from './logger.js';
import type { NetworkDefinition } from './network.js';
import type { Weights } from './weights.js';

/** Things with an explicit lifetime: `dispose()` is idempotent; any other call afterwards throws `DisposedError`. */
export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

/**
 * A TensorRT implementation: the mock (`createMockBackend()`) or the native one (`loadNativeBackend()`).
 * Chosen by the caller, never by import side effects.
 */
export interface Backend {
  /** `"mock"` or `"native"`. */
  readonly name: string;
  /** The (emulated or loaded) TensorRT version, e.g. `"10.16"`. */
  readonly tensorrtVersion: string;
  readonly device: DeviceApi;
  createBuilder(logger?: Logger): Builder;
  createRuntime(logger?: Logger): Runtime;
  /** `createInferRefitter(engine, logger)`; throws `NotRefittableError` when the engine is not refittable. */
  createRefitter(engine: CudaEngine, logger?: Logger): Refitter;
  /** `nvonnxparser::createParser(network, logger)`. */
  createOnnxParser(network: NetworkDefinition, logger?: Logger): OnnxParser;
  /** `nvonnxparser::createParserRefitter(refitter, logger)`. */
  createParserRefitter(refitter: Refitter, logger?: Logger): ParserRefitter;
}

/** `nvinfer1::IBuilder`. */
export interface Builder extends Disposable {
  createNetwork(): NetworkDefinition;
  createBuilderConfig(): BuilderConfig;
  /**
   * Builds and serializes an engine (`IBuilder::buildSerializedNetwork`) without blocking the event loop.
   * Rejects with `InvalidFlagsError` naming every broken flag rule, or `BuildError` naming unsupported layers.
   */
  buildSerializedNetwork(network: NetworkDefinition, config: BuilderConfig): Promise<Uint8Array>;
}

/** `nvinfer1::IBuilderConfig` (the flags part). */
export interface BuilderConfig {
  setFlag(flag: BuilderFlag): void;
  clearFlag(flag: BuilderFlag): void;
  getFlag(flag: BuilderFlag): boolean;
  /** Replaces all flags (not OR-ed). */
  setFlags(flags: Iterable<BuilderFlag>): void;
  getFlags(): BuilderFlag[];
}

/** `nvonnxparser::IParser`: fills a network from an ONNX model. */
export interface OnnxParser {
  parse(bytes: Uint8Array, modelPath?: string): Promise<boolean>;
  parseFromFile(path: string): Promise<boolean>;
  getNbErrors(): number;
  getError(index: number): ParserError | undefined;
  clearErrors(): void;
}

/** `nvonnxparser::IParserError`. */
export interface ParserError {
  /** `nvonnxparser::ErrorCode` name, e.g. `"UNSUPPORTED_NODE"` or `"REFIT_FAILED"`. */
  readonly code: string;
  readonly desc: string;
  /** Index of the ONNX node, or -1. */
  readonly node: number;
  readonly nodeName: string;
  readonly nodeOperator: string;
}

/** `nvinfer1::IRuntime`. */
export interface Runtime extends Disposable {
  /** Deserializes a plan (`deserializeCudaEngine`); rejects with a typed error for a damaged or foreign plan. */
  deserializeCudaEngine(plan: Uint8Array): Promise<CudaEngine>;
  /** Loads a lean runtime library for plans built with VERSION_COMPATIBLE + EXCLUDE_LEAN_RUNTIME. */
  loadRuntime(path: string): Promise<Runtime>;
  setEngineHostCodeAllowed(allowed: boolean): void;
  getEngineHostCodeAllowed(): boolean;
}

/** `nvinfer1::ISerializationConfig`. */
export interface SerializationConfig {
  setFlag(flag: SerializationFlag): boolean;
  clearFlag(flag: SerializationFlag): boolean;
  getFlag(flag: SerializationFlag): boolean;
  /** Replaces all flags (not OR-ed). */
  setFlags(flags: Iterable<SerializationFlag>): boolean;
  getFlags(): SerializationFlag[];
}

/** A layer as the engine inspector shows it after fusion. */
export interface EngineLayerInfo {
  readonly name: string;
  /** e.g. `"Conv+Scale+Relu"` for a fused layer. */
  readonly type: string;
  /** Names of the network layers fused into this one. */
  readonly fusedFrom: readonly string[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly weights: readonly string[];
}

/** `nvinfer1::ICudaEngine`. */
export interface CudaEngine extends Disposable {
  isRefittable(): boolean;
  createSerializationConfig(): SerializationConfig;
  serializeWithConfig(config: SerializationConfig): Uint8Array;
  serialize(): Uint8Array;
  /** `getEngineStat` (10.14+): STRIPPED_WEIGHTS_SIZE is -1 for an engine that was not stripped. */
  getEngineStat(stat: EngineStat): number;
  /** The layers after fusion (`IEngineInspector`). */
  getLayers(): EngineLayerInfo[];
  getIOTensors(): { name: string; mode: 'INPUT' | 'OUTPUT'; dtype: DataType; dims: (number | string)[] }[];
  createExecutionContext(): ExecutionContext;
}

/** A named host tensor for execution: typed values in C order and the shape. */
export interface HostTensor {
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  readonly dims: readonly number[];
}

/** `nvinfer1::IExecutionContext`, enough to check refits numerically. Stays valid across refits. */
export interface ExecutionContext extends Disposable {
  execute(inputs: Record<string, HostTensor>, stream?: CudaStream): Promise<Record<string, HostTensor>>;
}

/** A (layer, role) pair of the legacy refit API. */
export interface LayerWeightsRef {
  readonly layerName: string;
  readonly role: WeightsRole;
}

/** `getWeightsPrototype`: the type and count of weights used at build; count -1 for an unknown name. */
export interface WeightsPrototype {
  readonly type: DataType;
  readonly count: number;
}

/**
 * `nvinfer1::IRefitter`. Booleans like TensorRT, with each reason sent to the logger and the error recorder.
 * Weights are held by reference: update a set buffer in place and refit again; keep it alive until unset.
 */
export interface Refitter extends Disposable {
  readonly engine: CudaEngine;
  setNamedWeights(name: string, weights: Weights, location?: TensorLocation): boolean;
  getNamedWeights(name: string): Weights;
  getWeightsLocation(name: string): TensorLocation;
  unsetNamedWeights(name: string): boolean;
  getMissingWeights(): string[];
  getAllWeights(): string[];
  getWeightsPrototype(name: string): WeightsPrototype;
  /** True on success; false when weights are missing or validation fails (a subset may have been refitted). */
  refitCudaEngine(): Promise<boolean>;
  /** Enqueues the refit on `stream`; resolves to the same result once enqueued (synchronize the stream to wait). */
  refitCudaEngineAsync(stream: CudaStream): Promise<boolean>;
  setMaxThreads(n: number): boolean;
  getMaxThreads(): number;
  setWeightsValidation(enabled: boolean): void;
  getWeightsValidation(): boolean;
  setErrorRecorder(recorder: ErrorRecorder | null): void;
  getErrorRecorder(): ErrorRecorder | null;
  getLogger(): Logger;
  /** Legacy API: weights by layer name and role. */
  setWeights(layerName: string, role: WeightsRole, weights: Weights): boolean;
  getMissing(): LayerWeightsRef[];
  getAll(): LayerWeightsRef[];
}

/** Progress of a parser refitter: `done` of `total` weights set. */
export type RefitProgress = (event: { done: number; total: number; name: string; bytes: number }) => void;

/**
 * `nvonnxparser::IParserRefitter`: sets a refitter's weights from an ONNX model (it does not refit: call
 * `refitter.refitCudaEngine()` afterwards).
 */
export interface ParserRefitter {
  refitFromFile(path: string): Promise<boolean>;
  refitFromBytes(bytes: Uint8Array, modelPath?: string): Promise<boolean>;
  /** 10.13+: loads a model's structure; only one model at a time. */
  loadModelProto(bytes: Uint8Array, modelPath?: string): Promise<boolean>;
  /** 10.13+: supplies an initializer's bytes (held by reference) for `refitModelProto`. */
  loadInitializer(name: string, data: ArrayBufferView): boolean;
  refitModelProto(): Promise<boolean>;
  getNbErrors(): number;
  getError(index: number): ParserError | undefined;
  clearErrors(): void;
  /** Called after each weight is set (trt-refit extension). */
  onProgress?: RefitProgress | undefined;
}
