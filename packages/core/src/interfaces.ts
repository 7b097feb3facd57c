import type { DataType } from './data-type.js';
import type { CudaStream, DeviceApi } from './device.js';
import type { BuilderFlag, EngineStat, SerializationFlag, TensorLocation, WeightsRole } from './enums.js';
import type { ErrorRecorder, Logger } from './logger.js';
import type { NetworkDefinition } from './network.js';
import type { Weights } from './weights.js';
import type { RefitRecord, RefitterObserver } from './recipe.js';

/** Things with an explicit lifetime: `dispose()` is idempotent; any other call afterwards throws `DisposedError`. */
export interface Disposable {
  /**
   * Releases the object (its TensorRT counterpart in the native backend). Idempotent; any other call afterwards
   * throws {@link DisposedError}.
   */
  dispose(): void;
  /** True once `dispose()` was called. */
  readonly disposed: boolean;
}

/**
 * A TensorRT implementation: the mock (`createMockBackend()`) or the native one (`loadNativeBackend()`).
 * Chosen by the caller, never by import side effects. Objects of one backend only work with objects of the same
 * backend (a mock engine cannot be refitted by a native refitter). Without a `logger`, a factory sends messages to
 * the backend's default logger.
 *
 * @example
 * ```ts
 * import { BuilderFlag } from '@trt-refit/core';
 * import { createMockBackend } from '@trt-refit/mock-backend'; // or loadNativeBackend() from @trt-refit/native-backend
 *
 * const backend = createMockBackend();
 * const builder = backend.createBuilder();
 * const network = builder.createNetwork();
 * await backend.createOnnxParser(network).parseFromFile('model.onnx');
 * const config = builder.createBuilderConfig();
 * config.setFlag(BuilderFlag.REFIT);
 * const plan = await builder.buildSerializedNetwork(network, config);
 * builder.dispose();
 *
 * const engine = await backend.createRuntime().deserializeCudaEngine(plan);
 * const refitter = backend.createRefitter(engine); // see Refitter
 * ```
 */
export interface Backend {
  /** `"mock"` or `"native"`. */
  readonly name: string;
  /** The (emulated or loaded) TensorRT version, e.g. `"10.16"`. */
  readonly tensorrtVersion: string;
  /** Device memory and CUDA streams of this backend, for DEVICE weights and `refitCudaEngineAsync`. */
  readonly device: DeviceApi;
  /** `createInferBuilder(logger)`: a builder for networks and serialized plans. */
  createBuilder(logger?: Logger): Builder;
  /** `createInferRuntime(logger)`: a runtime that deserializes plans into engines. */
  createRuntime(logger?: Logger): Runtime;
  /** `createInferRefitter(engine, logger)`; throws `NotRefittableError` when the engine is not refittable. */
  createRefitter(engine: CudaEngine, logger?: Logger): Refitter;
  /** `nvonnxparser::createParser(network, logger)`. */
  createOnnxParser(network: NetworkDefinition, logger?: Logger): OnnxParser;
  /** `nvonnxparser::createParserRefitter(refitter, logger)`. */
  createParserRefitter(refitter: Refitter, logger?: Logger): ParserRefitter;
  /**
   * Reads this backend's plan files without deserializing them, where its format allows (the mock's flatbuffers
   * plans); undefined where plans are opaque (TensorRT's). Used by `trt-refit inspect` and `diff`.
   */
  readonly planReader?: PlanReader;
}

/** What a backend can tell of its plan files without deserializing them (an optional {@link Backend} capability). */
export interface PlanReader {
  /** True when the first bytes of a file are this backend's plan. */
  isPlan(head: Uint8Array): boolean;
  /** The plan's facts (format, version, flags, refittability, weights, layers), verified first. */
  describe(plan: Uint8Array): object;
  /** The weights a plan carries: name, type, shape, and their bytes (null where stripped). */
  weights(plan: Uint8Array): { readonly name: string; readonly dtype: DataType; readonly dims: readonly number[]; readonly data: Uint8Array | null }[];
}

/** `nvinfer1::IBuilder`. */
export interface Builder extends Disposable {
  /**
   * An empty network (`IBuilder::createNetworkV2`), to fill with the backend's ONNX parser or by hand; only this
   * builder's backend can build it.
   */
  createNetwork(): NetworkDefinition;
  /** A config with no {@link BuilderFlag} set (`IBuilder::createBuilderConfig`). */
  createBuilderConfig(): BuilderConfig;
  /**
   * Builds and serializes an engine (`IBuilder::buildSerializedNetwork`) without blocking the event loop.
   * Rejects with `InvalidFlagsError` naming every broken flag rule, or a `TrtRefitError` with code
   * `ERR_TRT_REFIT_BUILD_FAILED` naming unsupported layers or carrying TensorRT's logged errors.
   */
  buildSerializedNetwork(network: NetworkDefinition, config: BuilderConfig): Promise<Uint8Array>;
}

/**
 * `nvinfer1::IBuilderConfig` (the flags part). Flags are names, not TensorRT's numbers (which changed between 10.x
 * and 11.0). How flags combine is checked by `buildSerializedNetwork`, which names every broken rule at once.
 */
export interface BuilderConfig {
  /** Sets `flag`, keeping the others. Throws for a value that is not a {@link BuilderFlag}. */
  setFlag(flag: BuilderFlag): void;
  /** Clears `flag`, keeping the others. */
  clearFlag(flag: BuilderFlag): void;
  /** True when `flag` is set. */
  getFlag(flag: BuilderFlag): boolean;
  /** Replaces all flags (not OR-ed). */
  setFlags(flags: Iterable<BuilderFlag>): void;
  /** The flags that are set (only those trt-refit models; TensorRT's other defaults are not listed). */
  getFlags(): BuilderFlag[];
}

/**
 * `nvonnxparser::IParser`: fills a network from an ONNX model, naming weights as TensorRT's parser does
 * (initializer names, Constant outputs, parser-generated names for folded BatchNormalization). A model it cannot
 * read or import resolves to false with the reasons in {@link OnnxParser.getError}.
 */
export interface OnnxParser {
  /** Parses a serialized model into the network; `modelPath` (the .onnx file) anchors external data. */
  parse(bytes: Uint8Array, modelPath?: string): Promise<boolean>;
  /** Parses an ONNX file into the network; external data resolves against the file's folder. */
  parseFromFile(path: string): Promise<boolean>;
  /** Number of errors recorded and not cleared. */
  getNbErrors(): number;
  /** The error at `index` (0 to `getNbErrors() - 1`), or undefined past the last. */
  getError(index: number): ParserError | undefined;
  /** Forgets the recorded errors. */
  clearErrors(): void;
}

/** `nvonnxparser::IParserError`. */
export interface ParserError {
  /** `nvonnxparser::ErrorCode` name, e.g. `"UNSUPPORTED_NODE"` or `"REFIT_FAILED"`. */
  readonly code: string;
  /** What went wrong, e.g. which weights are missing from the model. */
  readonly desc: string;
  /** Index of the ONNX node, or -1. */
  readonly node: number;
  /** Name of the ONNX node, or `""`. */
  readonly nodeName: string;
  /** Operator of the ONNX node (e.g. `"Conv"`), or `""`. */
  readonly nodeOperator: string;
}

/** `nvinfer1::IRuntime`. */
export interface Runtime extends Disposable {
  /** Deserializes a plan (`deserializeCudaEngine`); rejects with a typed error for a damaged or foreign plan. */
  deserializeCudaEngine(plan: Uint8Array): Promise<CudaEngine>;
  /** Loads a lean runtime library for plans built with VERSION_COMPATIBLE + EXCLUDE_LEAN_RUNTIME. */
  loadRuntime(path: string): Promise<Runtime>;
  /**
   * Allows deserializing plans that carry host code (`IRuntime::setEngineHostCodeAllowed`): a plan built with
   * VERSION_COMPATIBLE (without EXCLUDE_LEAN_RUNTIME) embeds its lean runtime and is refused until this is set to
   * true. Default false; set it before `deserializeCudaEngine`.
   */
  setEngineHostCodeAllowed(allowed: boolean): void;
  /** Whether plans with host code (an embedded lean runtime) may be deserialized; default false. */
  getEngineHostCodeAllowed(): boolean;
  /**
   * {@link Runtime.deserializeCudaEngine} of a plan file: a FIFO, directory or other non-regular file is refused
   * without blocking. A backend may read it in a way that needs no second copy (the mock verifies while it reads).
   */
  deserializeCudaEngineFromFile(path: string): Promise<CudaEngine>;
}

/**
 * `nvinfer1::ISerializationConfig`: what `engine.serializeWithConfig(config)` writes. Flags:
 * - `EXCLUDE_WEIGHTS`: leave out the refittable weights (needs an engine built with REFIT, REFIT_IDENTICAL or
 *   REFIT_INDIVIDUAL); the default of a weight-stripped engine's config, so clear it to write a full plan;
 * - `EXCLUDE_LEAN_RUNTIME`: leave the lean runtime out of a version-compatible plan;
 * - `INCLUDE_REFIT` (10.14+): keep a weight-stripped engine serialized with its weights refittable (without it
 *   that full plan is not refittable).
 *
 * A flag the TensorRT version lacks throws `UnsupportedFeatureError`; rules between flags are checked when
 * serializing.
 *
 * @example
 * ```ts
 * // After refitting a weight-stripped engine: write the full plan, still refittable.
 * const config = engine.createSerializationConfig();
 * config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
 * config.setFlag(SerializationFlag.INCLUDE_REFIT); // 10.14+
 * const fullPlan = engine.serializeWithConfig(config);
 * ```
 */
export interface SerializationConfig {
  /** Sets `flag`, keeping the others; true when it was set (TensorRT's result). */
  setFlag(flag: SerializationFlag): boolean;
  /** Clears `flag`, keeping the others; true when it was cleared (TensorRT's result). */
  clearFlag(flag: SerializationFlag): boolean;
  /** True when `flag` is set. */
  getFlag(flag: SerializationFlag): boolean;
  /** Replaces all flags (not OR-ed). */
  setFlags(flags: Iterable<SerializationFlag>): boolean;
  /** The flags that are set. */
  getFlags(): SerializationFlag[];
}

/** A layer as the engine inspector shows it after fusion. */
export interface EngineLayerInfo {
  /** Name of the engine layer. */
  readonly name: string;
  /** e.g. `"Conv+Scale+Relu"` for a fused layer. */
  readonly type: string;
  /** Names of the network layers fused into this one. */
  readonly fusedFrom: readonly string[];
  /** Names of the tensors the layer reads. */
  readonly inputs: readonly string[];
  /** Names of the tensors the layer writes. */
  readonly outputs: readonly string[];
  /** Names of the weights the layer uses. */
  readonly weights: readonly string[];
}

/** `nvinfer1::ICudaEngine`. */
export interface CudaEngine extends Disposable {
  /**
   * True when the engine can be refitted: built with REFIT, REFIT_IDENTICAL, REFIT_INDIVIDUAL or STRIP_PLAN (which
   * implies REFIT_IDENTICAL). A weight-stripped engine re-serialized with its weights is refittable only with
   * INCLUDE_REFIT. `createRefitter` throws {@link NotRefittableError} for an engine that is not.
   */
  isRefittable(): boolean;
  /**
   * A serialization config holding the engine's default flags: EXCLUDE_WEIGHTS for a weight-stripped engine,
   * EXCLUDE_LEAN_RUNTIME when the build excluded the lean runtime. TensorRT does not document its defaults; the
   * mock follows {@link defaultSerializationFlags}.
   */
  createSerializationConfig(): SerializationConfig;
  /**
   * Serializes the engine, with its current (refitted) weights, as `config`'s flags say. `config` must come from
   * this backend (`createSerializationConfig`). EXCLUDE_WEIGHTS on an engine that is not refittable is refused.
   */
  serializeWithConfig(config: SerializationConfig): Uint8Array;
  /**
   * What {@link CudaEngine.serializeWithConfig} returns (with `config`, default the engine's default config),
   * written to `path` through a temporary file renamed into place. A backend may write it without assembling the
   * plan in memory (the mock streams each weight from the engine's memory). Resolves to the plan's size.
   */
  serializeToFile(path: string, config?: SerializationConfig): Promise<number>;
  /**
   * Serializes the engine (`ICudaEngine::serialize`). The mock uses the default config, except for a
   * weight-stripped engine once every stripped weight is refitted (the full engine; before that it refuses, as the
   * header does not define it: docs/fidelity.md F-SERIALIZE-STRIPPED); to choose what is written, use {@link CudaEngine.serializeWithConfig}.
   */
  serialize(): Uint8Array;
  /** `getEngineStat` (10.14+): STRIPPED_WEIGHTS_SIZE is -1 for an engine that was not stripped. */
  getEngineStat(stat: EngineStat): number;
  /** The layers after fusion (`IEngineInspector`). */
  getLayers(): EngineLayerInfo[];
  /** The engine's input and output tensors: name, direction, type and dims (a dynamic dimension is a name or -1). */
  getIOTensors(): { name: string; mode: 'INPUT' | 'OUTPUT'; dtype: DataType; dims: (number | string)[] }[];
  /** A context to run the engine (`ICudaEngine::createExecutionContext`); it stays valid across refits. */
  createExecutionContext(): ExecutionContext;
}

/** A named host tensor for execution: typed values in C order and the shape. */
export interface HostTensor {
  /** The values in C order. */
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  /** The shape. */
  readonly dims: readonly number[];
}

/** `nvinfer1::IExecutionContext`, enough to check refits numerically. Stays valid across refits. */
export interface ExecutionContext extends Disposable {
  /**
   * Runs the engine on host tensors, one for each input by name, and resolves to the outputs by name. Executions
   * and refits of one engine never interleave: an execution sees the weights of one refit. The native backend
   * enqueues the work on `stream` (a private stream when omitted).
   */
  execute(inputs: Record<string, HostTensor>, stream?: CudaStream): Promise<Record<string, HostTensor>>;
}

/** A (layer, role) pair of the legacy refit API. */
export interface LayerWeightsRef {
  /** Name of the network layer that owns the weights. */
  readonly layerName: string;
  /** Role of the weights in that layer (KERNEL, BIAS, …). */
  readonly role: WeightsRole;
}

/** `getWeightsPrototype`: the type and count of weights used at build; count -1 for an unknown name. */
export interface WeightsPrototype {
  /** The data type new weights must have. */
  readonly type: DataType;
  /** The element count new weights must have; -1 for a name that is not refittable. */
  readonly count: number;
}

/**
 * `nvinfer1::IRefitter`. Booleans like TensorRT, with each reason sent to the logger and the error recorder.
 * Weights are held by reference: update a set buffer in place and refit again; keep it alive until unset.
 * Create one with `backend.createRefitter(engine, logger)`.
 *
 * @example
 * ```ts
 * const refitter = backend.createRefitter(engine, new ConsoleLogger());
 * const { type, count } = refitter.getWeightsPrototype('fc.weight'); // what the engine was built with
 * const values = new Float32Array(count); // the new weights (a FLOAT prototype)
 * refitter.setNamedWeights('fc.weight', { type, values, count }); // false, with the reason logged, on a mismatch
 * refitter.getMissingWeights(); // e.g. ['fc.bias']: fused with fc.weight, so it must be set too
 * // … set those, then:
 * if (!(await refitter.refitCudaEngine())) console.error('still missing:', refitter.getMissingWeights());
 * values.fill(0.5); // held by reference: change the values in place and refit again
 * await refitter.refitCudaEngine();
 * ```
 */
export interface Refitter extends Disposable {
  /** The engine this refitter refits. */
  readonly engine: CudaEngine;
  /**
   * Sets the weights of a refittable name (`IRefitter::setNamedWeights`), replacing any set before. `location`
   * (default HOST) says where the values are: HOST takes an `ArrayBufferView`, DEVICE a {@link DeviceBuffer} of
   * this backend; some weights may be on the host and others on the device. Returns false, with the reason logged
   * and reported to the error recorder, for a name that is not refittable, a type or count that differs from
   * {@link Refitter.getWeightsPrototype}, malformed weights (see {@link weightsProblem}), or values that do not
   * match `location`; the weights set before stay in place. The weights are held by reference, not copied:
   * keep them alive and unchanged while a refit runs, until they are unset or the refitter is disposed.
   */
  setNamedWeights(name: string, weights: Weights, location?: TensorLocation): boolean;
  /**
   * The weights set for `name` (`IRefitter::getNamedWeights`); when none were set, {@link NULL_WEIGHTS} (values
   * null, count 0) and an error reported to the error recorder.
   */
  getNamedWeights(name: string): Weights;
  /**
   * Where the weights set for `name` are (`IRefitter::getWeightsLocation`); HOST, with an error reported to the
   * error recorder, when none were set.
   */
  getWeightsLocation(name: string): TensorLocation;
  /**
   * Forgets the weights set for `name` (`IRefitter::unsetNamedWeights`): later refits do not use them and their
   * buffer may be released. False when none were set. If weights fused with it are still set, `name` is missing
   * again.
   */
  unsetNamedWeights(name: string): boolean;
  /**
   * The names that must still be set before {@link Refitter.refitCudaEngine} can succeed
   * (`IRefitter::getMissingWeights`): the weights the engine combined (fusion-group partners) with weights that
   * were set and are not set themselves, and, for a weight-stripped engine, every stripped weight not yet refitted
   * (with its partners). The set is complete: supplying exactly these, in any order, makes nothing else go
   * missing. Empty when nothing is set on an engine that still has all its weights.
   */
  getMissingWeights(): string[];
  /**
   * Every refittable weight name (`IRefitter::getAllWeights`), in the engine's order: names given at build
   * (`setWeightsName`, ONNX initializer and Constant names) and names TensorRT or its ONNX parser generated.
   */
  getAllWeights(): string[];
  /**
   * The type and count of the weights the engine was built with (`IRefitter::getWeightsPrototype`, 10.0+): what
   * {@link Refitter.setNamedWeights} accepts for `name`. Count -1 for a name that is not refittable.
   */
  getWeightsPrototype(name: string): WeightsPrototype;
  /**
   * True on success; false when weights are missing or validation fails (a subset may have been refitted).
   * Runs without blocking the event loop; execution contexts of the engine stay valid. Weights stay set after a
   * refit: change their values in place and refit again.
   */
  refitCudaEngine(): Promise<boolean>;
  /** Enqueues the refit on `stream`; resolves to the same result once enqueued (synchronize the stream to wait). */
  refitCudaEngineAsync(stream: CudaStream): Promise<boolean>;
  /**
   * Threads a refit may use, the calling one included (`IRefitter::setMaxThreads`; default 1). False, with an
   * INVALID_ARGUMENT error reported, for `n` below 1.
   */
  setMaxThreads(n: number): boolean;
  /** Threads a refit may use (default 1). */
  getMaxThreads(): number;
  /**
   * Turns validation of new weights at refit on or off (`IRefitter::setWeightsValidation`; default on). TensorRT
   * checks weights while converting them (e.g. FP32 to FP16 or BF16) or sparsifying them: minor problems such as
   * overflow warn and the refit goes on, severe ones (sparsifying weights that are not sparse) fail it. Off makes
   * refits faster.
   */
  setWeightsValidation(enabled: boolean): void;
  /** Whether new weights are validated at refit (default true). */
  getWeightsValidation(): boolean;
  /**
   * Attaches an error recorder that receives the reason of every refusal and failure (the logger gets them too);
   * null detaches it.
   */
  setErrorRecorder(recorder: ErrorRecorder | null): void;
  /** The error recorder attached with {@link Refitter.setErrorRecorder}, or null. */
  getErrorRecorder(): ErrorRecorder | null;
  /** The logger given to `createRefitter` (or the backend's default), which receives this refitter's messages. */
  getLogger(): Logger;
  /** Legacy API: weights by layer name and role. */
  setWeights(layerName: string, role: WeightsRole, weights: Weights): boolean;
  /** Legacy `IRefitter::getMissing`: {@link Refitter.getMissingWeights} as (layer, role) pairs. */
  getMissing(): LayerWeightsRef[];
  /** Legacy `IRefitter::getAll`: every refittable weight as a (layer, role) pair. */
  getAll(): LayerWeightsRef[];
}

/** Progress of a parser refitter: `done` of `total` weights set. */
export type RefitProgress = (event: { done: number; total: number; name: string; bytes: number }) => void;

/**
 * `nvonnxparser::IParserRefitter`: sets a refitter's weights from an ONNX model (it does not refit: call
 * `refitter.refitCudaEngine()` afterwards). The model must be the one the engine was built from, possibly with
 * other weight values. Every refittable name the engine lists must be found in the model; weights the parser
 * derived at build (folded BatchNormalization) are recomputed under the names the parser generated. Failures
 * resolve to false with the reasons in {@link ParserRefitter.getError} (code `"REFIT_FAILED"` for missing or
 * mismatched weights). Create one with `backend.createParserRefitter(refitter, logger)`.
 *
 * @example
 * ```ts
 * const parserRefitter = backend.createParserRefitter(refitter);
 * if (await parserRefitter.refitFromFile('model.onnx')) {
 *   await refitter.refitCudaEngine(); // the parser refitter only sets the weights
 * } else {
 *   for (let i = 0; i < parserRefitter.getNbErrors(); i++) console.error(parserRefitter.getError(i)?.desc);
 * }
 *
 * // 10.13+: the model's structure from one place, initializer values from another (e.g. a checkpoint).
 * await parserRefitter.loadModelProto(modelBytes, '/models/model.onnx');
 * parserRefitter.loadInitializer('fc.weight', newFcWeight); // the model's element type, little-endian
 * await parserRefitter.refitModelProto();
 * await refitter.refitCudaEngine();
 * ```
 */
export interface ParserRefitter {
  /**
   * Reads an ONNX file (external data resolves against its folder) and sets every refittable weight of the engine
   * from it (`IParserRefitter::refitFromFile`). True when all were set, and when the engine has no refittable
   * weights; false, with errors, when the file cannot be read or a weight is missing from the model or does not
   * match the engine's type and count.
   */
  refitFromFile(path: string): Promise<boolean>;
  /**
   * {@link ParserRefitter.refitFromFile} for a serialized model (`IParserRefitter::refitFromBytes`); `modelPath`
   * (the .onnx file) anchors external data. Weights may be set as views of `bytes`: keep it unchanged until the
   * refit is done.
   */
  refitFromBytes(bytes: Uint8Array, modelPath?: string): Promise<boolean>;
  /** 10.13+: loads a model's structure; only one model at a time. */
  loadModelProto(bytes: Uint8Array, modelPath?: string): Promise<boolean>;
  /** 10.13+: supplies an initializer's bytes (held by reference) for `refitModelProto`. */
  loadInitializer(name: string, data: ArrayBufferView): boolean;
  /**
   * 10.13+: sets the weights from the model given to `loadModelProto`, with the bytes given to `loadInitializer`
   * in place of the model's own (`IParserRefitter::refitModelProto`); results as for
   * {@link ParserRefitter.refitFromFile}. A backend for TensorRT before 10.13 throws `UnsupportedFeatureError` for
   * this and the other two 10.13 methods.
   */
  refitModelProto(): Promise<boolean>;
  /** Number of errors recorded and not cleared. */
  getNbErrors(): number;
  /** The error at `index` (0 to `getNbErrors() - 1`), or undefined past the last. */
  getError(index: number): ParserError | undefined;
  /** Forgets the recorded errors. */
  clearErrors(): void;
  /**
   * 11.2+: attaches an observer that receives a {@link RefitRecord} per refittable weight during the next refits
   * (`IParserRefitter::setRefitObserver`); null detaches it. `UnsupportedFeatureError` before 11.2, and on a native
   * addon compiled against headers without it.
   */
  setRefitObserver(observer: RefitterObserver | null): void;
  /** Called after each weight is set (trt-refit extension). */
  onProgress?: RefitProgress | undefined;
}
