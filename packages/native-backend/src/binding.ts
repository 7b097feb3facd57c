/**
 * The whole surface of the native addon (`trt_refit_native.node`), typed in one place. Nothing here is public API:
 * the backend classes receive a {@link NativeBinding} (the real addon, or a fake in unit tests) and adapt it to
 * the core interfaces. Enum-like arguments are TensorRT's numbers for the major the addon was compiled against;
 * the TS side maps names to numbers (see `native-enums.ts`).
 *
 * Conventions of every wrapped TensorRT object (native `TrtWrap`): methods returning a Promise run on a libuv
 * worker thread (`Napi::AsyncWorker`) and mark the objects they use busy; any synchronous call on a busy object
 * throws with code ERR_TRT_REFIT_INVALID_STATE, and any call after `dispose()` with code ERR_TRT_REFIT_DISPOSED.
 * Promises of CUDA stream work settle through the addon's completion thread, which polls a `cudaEvent_t`
 * recorded on the stream at call time.
 *
 * @module
 */

/** How the addon was built (`binding.info`). */
export interface NativeBuildInfo {
  readonly addonVersion: string;
  readonly napiVersion: number;
  /** CUDA runtime headers the addon was compiled against, e.g. `"13.0"`. */
  readonly cudaHeaderVersion: string;
  /** True when TensorRT headers were found at build time and `binding.tensorrt` exists. */
  readonly tensorrt: boolean;
  /** e.g. `"10.16.0"`, or null without TensorRT. */
  readonly tensorrtHeaderVersion: string | null;
  readonly compiler?: string;
}

/** `binding.cuda.status()`: what loading the CUDA runtime found. Never throws. */
export interface NativeCudaStatus {
  readonly headerVersion: string;
  readonly loaded: boolean;
  /** One line per `libcudart` candidate that failed to open. */
  readonly loadErrors: readonly string[];
  readonly path?: string;
  readonly runtimeVersion?: string;
  /** `"none"` when no driver is installed. */
  readonly driverVersion?: string;
  readonly deviceCount?: number;
  /** Why `cudaGetDeviceCount` failed (no driver, no device...). */
  readonly deviceError?: string;
}

/** `cudaDeviceProp`, the parts trt-refit reports. */
export interface NativeDeviceProperties {
  readonly name: string;
  readonly computeCapability: string;
  readonly totalMemory: number;
  readonly multiProcessorCount: number;
  readonly pciBusId: string;
}

/** A `cudaMalloc`ed buffer (native class `DeviceBuffer`). */
export interface NativeDeviceBuffer {
  readonly byteLength: number;
  readonly deviceId: number;
  readonly disposed: boolean;
  /** The device pointer (for interop with other CUDA libraries). */
  readonly address: bigint;
  /**
   * Synchronous host-to-device copy of all of `src` to `offset` (default 0): `cudaSetDevice` then `cudaMemcpy`.
   * Throws a RangeError when it does not fit, ERR_TRT_REFIT_DEVICE when CUDA fails.
   */
  upload(src: ArrayBufferView, offset?: number): void;
  /** Synchronous device-to-host copy of `dst.byteLength` bytes starting at `offset` (default 0), with `cudaMemcpy`. */
  download(dst: ArrayBufferView, offset?: number): void;
  /**
   * `cudaMemcpyAsync` host-to-device, enqueued on `stream` before returning; the Promise resolves once the copy
   * has completed. Pageable sources up to 64 MiB are first copied into a pooled pinned staging block (so `src` may
   * change as soon as the call returns); pinned sources are used as they are and must not change until it resolves.
   */
  uploadAsync(src: ArrayBufferView, stream: NativeCudaStream, offset?: number): Promise<void>;
  /**
   * `cudaMemcpyAsync` device-to-host, enqueued on `stream` before returning; `dst` holds the data once the Promise
   * resolves and must not be touched before. Pageable destinations up to 64 MiB receive the data from a pinned
   * staging block, copied on the completion thread.
   */
  downloadAsync(dst: ArrayBufferView, stream: NativeCudaStream, offset?: number): Promise<void>;
  /** Idempotent. `cudaFree`s the memory now, or once the last async copy in flight has completed. */
  dispose(): void;
}

/** A `cudaStream_t` (native class `CudaStream`). */
export interface NativeCudaStream {
  readonly disposed: boolean;
  readonly deviceId: number;
  readonly handle: bigint;
  /** Records an event on the stream; the Promise resolves once all work enqueued before this call has completed. */
  synchronize(): Promise<void>;
  /** `cudaStreamQuery`: true when all work enqueued so far has completed (false on `cudaErrorNotReady`). */
  query(): boolean;
  /** `cudaStreamWaitEvent`: later work on this stream waits for `event` (no host blocking). */
  waitEvent(event: NativeCudaEvent): void;
  /** Idempotent. `cudaStreamDestroy` (work already queued still completes before CUDA frees the stream). */
  dispose(): void;
}

/** A `cudaEvent_t` (native class `CudaEvent`). */
export interface NativeCudaEvent {
  readonly disposed: boolean;
  /** `cudaEventRecord` on `stream`. */
  record(stream: NativeCudaStream): void;
  /** Resolves once the event has completed (polled on the completion thread; the JS thread never blocks). */
  synchronize(): Promise<void>;
  /** `cudaEventQuery`: true when the event has completed (false on `cudaErrorNotReady`). */
  query(): boolean;
  /** Milliseconds from `start` to this event; both need timing enabled. */
  elapsedTime(start: NativeCudaEvent): number;
  /** Idempotent. `cudaEventDestroy`, deferred while a `synchronize()` is pending. */
  dispose(): void;
}

/** `binding.cuda`. Every function but `status` throws a coded error when the runtime is not loaded. */
export interface NativeCudaModule {
  /** What opening `libcudart` found, with runtime and driver versions and the device count when it loaded. */
  status(): NativeCudaStatus;
  /** `cudaGetDeviceCount`. */
  deviceCount(): number;
  /** `cudaGetDevice`: the calling thread's current device. */
  getDevice(): number;
  /** `cudaSetDevice`; later allocations, streams and events belong to that device. */
  setDevice(deviceId: number): void;
  /** `cudaGetDeviceProperties`, reduced to {@link NativeDeviceProperties}. */
  deviceProperties(deviceId: number): NativeDeviceProperties;
  /** `cudaMemGetInfo` of `deviceId` (default the current device), in bytes. RangeError for a device that does not exist. */
  memGetInfo(deviceId?: number): { free: number; total: number };
  /**
   * A new {@link NativeDeviceBuffer}: `cudaMalloc` of `byteLength` bytes on `deviceId`, by default the current device
   * (none for 0). Throws ERR_TRT_REFIT_DEVICE, with the free and total memory in the message, when the allocation
   * fails, and a RangeError for a device that does not exist. Every later operation on the buffer runs with its
   * device current and restores the caller's current device afterwards.
   */
  allocate(byteLength: number, deviceId?: number): NativeDeviceBuffer;
  /**
   * An ArrayBuffer over page-locked memory (`cudaHostAlloc(cudaHostAllocPortable)`: every device copies from it
   * without staging), freed by {@link NativeCudaModule.freePinned} or else by its finalizer.
   */
  allocatePinned(byteLength: number): ArrayBuffer;
  /**
   * Frees memory of {@link NativeCudaModule.allocatePinned} now (`cudaFreeHost`) and detaches the ArrayBuffer;
   * false when it was already freed. TypeError for any other ArrayBuffer. No copy may be in flight from or into it.
   */
  freePinned(buffer: ArrayBuffer): boolean;
  /** Whether the bytes of `view` are page-locked host memory (`cudaPointerGetAttributes`); false when empty. */
  isPinned(view: ArrayBufferView | ArrayBuffer): boolean;
  /**
   * A new non-blocking stream (`cudaStreamCreateWithFlags(cudaStreamNonBlocking)`) on `deviceId`, by default the
   * current device. Async copies of a buffer must use a stream of the buffer's device (RangeError otherwise).
   */
  createStream(deviceId?: number): NativeCudaStream;
  /**
   * A new event (`cudaEventCreateWithFlags`) on `deviceId` (default the current device); `timing: false` creates it
   * with `cudaEventDisableTiming`. It can be recorded only on streams of its device (RangeError otherwise).
   */
  createEvent(timing: boolean, deviceId?: number): NativeCudaEvent;
  /** `cudaDeviceSynchronize` of `deviceId` (default the current device) on a worker thread; rejects with ERR_TRT_REFIT_DEVICE. */
  synchronizeDevice(deviceId?: number): Promise<void>;
  /** Bytes of pinned staging memory the addon keeps cached. */
  stagingBytes(): number;
  /**
   * The LoRA merge on the device, enqueued on `spec.stream` before returning; the Promise resolves once it has
   * completed. FLOAT: `base` is copied into `out` (unless they are one buffer), then one `cublasGemmEx` per factor
   * adds `alpha · B · A` (FP32, pedantic: no TF32). HALF / BF16: the products are summed in the FP32 `workspace`, then
   * one kernel writes `out = round(base + workspace)`. Checks its arguments again (TypeError / RangeError); rejects
   * with ERR_TRT_REFIT_BACKEND_UNAVAILABLE when cuBLAS (or the runtime's kernel loading) is missing.
   */
  loraMerge(spec: NativeLoraMergeSpec): Promise<void>;
  /** Whether {@link NativeCudaModule.loraMerge} can run: cuBLAS found (opened on the first call) and the runtime's kernel functions. Never throws. */
  loraStatus(): NativeLoraStatus;
}

/** One term `alpha · B · A` of {@link NativeLoraMergeSpec.factors}: A FP32 row-major [rank, cols], B FP32 row-major [rows, rank]. */
export interface NativeLoraFactor {
  readonly a: NativeDeviceBuffer;
  readonly b: NativeDeviceBuffer;
  readonly rank: number;
  readonly alpha: number;
}

/** The argument of {@link NativeCudaModule.loraMerge}. */
export interface NativeLoraMergeSpec {
  readonly out: NativeDeviceBuffer;
  readonly base: NativeDeviceBuffer;
  /** 0 FLOAT, 1 HALF, 2 BF16. */
  readonly type: number;
  readonly rows: number;
  readonly cols: number;
  /** True when W is stored transposed, [cols, rows]. */
  readonly transposed: boolean;
  readonly factors: readonly NativeLoraFactor[];
  /** rows · cols FP32 values; needed for HALF / BF16 when a factor has a rank above 0. */
  readonly workspace?: NativeDeviceBuffer | null;
  readonly stream: NativeCudaStream;
}

/** `binding.cuda.loraStatus()`. */
export interface NativeLoraStatus {
  readonly cublasLoaded: boolean;
  readonly cublasPath?: string;
  /** One line per `libcublas` candidate that failed to open. */
  readonly cublasLoadErrors: readonly string[];
  /** Functions of the CUDA runtime that the HALF / BF16 kernels need and that it lacks (empty with CUDA 12+). */
  readonly kernelFunctionsMissing: readonly string[];
}

/** `binding.tensorrt.load()`: what opening TensorRT found. Never throws. */
export interface NativeTensorRtLoadResult {
  readonly ok: boolean;
  readonly headerVersion: string;
  readonly errors: readonly string[];
  readonly parserErrors: readonly string[];
  readonly nvinfer?: string;
  readonly nvonnxparser?: string;
  readonly parserAvailable: boolean;
  /** The loaded library's version, e.g. `"10.16.1.3"`. */
  readonly version?: string;
  readonly parserVersion?: number;
}

/** Receives TensorRT's log messages (native class `LogSink`); `drain` returns `[severity, message]` pairs. */
export interface NativeLogSink {
  /**
   * Takes the queued `[severity, message]` records (TensorRT may log from any thread). When the bounded queue
   * overflowed, the first record is a warning saying how many messages were dropped.
   */
  drain(): [number, string][];
  /** Messages less severe than this (a larger `ILogger::Severity` number) are no longer queued. */
  setMinSeverity(severity: number): void;
  /** Releases the notify callback; later messages are dropped. The native logger itself is never deleted. */
  close(): void;
}

/** An `IErrorRecorder` (native class `ErrorRecorderBridge`); `drain` returns `[code, description]` pairs. */
export interface NativeErrorRecorderBridge {
  /** Takes the queued `[ErrorCode, description]` records reported since the last drain. */
  drain(): [number, string][];
  /** `IErrorRecorder::clear`: forgets the errors TensorRT can query and resets the overflow flag. */
  clear(): void;
  /** Releases the notify callback; later errors are no longer queued for JS. */
  close(): void;
}

/** Things with an explicit, idempotent native `dispose()`. */
export interface NativeDisposable {
  readonly disposed: boolean;
  /**
   * Idempotent. Drops this wrapper's share of the TensorRT object: it is deleted once nothing else holds it (a
   * Promise in flight, or a child that needs its parent alive), always before its parents.
   */
  dispose(): void;
}

/** An `nvinfer1::IBuilder` (native class `Builder`). */
export interface NativeBuilder extends NativeDisposable {
  /** `IBuilder::createNetworkV2(0)` (explicit batch, weakly typed). Throws ERR_TRT_REFIT_BUILD_FAILED on null. */
  createNetwork(): NativeNetwork;
  /**
   * `IBuilder::createBuilderConfig`, with `ProfilingVerbosity::kDETAILED` set so the engine inspector can show
   * layer details. Throws ERR_TRT_REFIT_BUILD_FAILED on null.
   */
  createBuilderConfig(): NativeBuilderConfig;
  /** Zero-copy view of TensorRT's `IHostMemory`. Rejects with code ERR_TRT_REFIT_BUILD_FAILED. */
  buildSerializedNetwork(network: NativeNetwork, config: NativeBuilderConfig): Promise<Uint8Array>;
  /** `IBuilder::setErrorRecorder` (null detaches); the builder keeps the recorder alive. */
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
  /** `IBuilder::setMaxThreads`; TensorRT's boolean result. */
  setMaxThreads(n: number): boolean;
}

/** One input of an optimization profile. */
export interface NativeProfileDims {
  readonly name: string;
  readonly min: readonly number[];
  readonly opt: readonly number[];
  readonly max: readonly number[];
}

/** An `nvinfer1::IBuilderConfig` (native class `BuilderConfig`). */
export interface NativeBuilderConfig extends NativeDisposable {
  /** The whole `BuilderFlags` mask, bit numbers of the loaded major. */
  setFlags(mask: number): void;
  /** `IBuilderConfig::getFlags`: the whole `BuilderFlags` mask. */
  getFlags(): number;
  /** `IBuilderConfig::setProfilingVerbosity` (0 layer names only, 1 none, 2 detailed; RangeError otherwise). */
  setProfilingVerbosity(verbosity: number): void;
  /** `IBuilderConfig::getProfilingVerbosity`. */
  getProfilingVerbosity(): number;
  /** `IBuilderConfig::setMemoryPoolLimit` (`MemoryPoolType` number; 0 is the workspace). */
  setMemoryPoolLimit(pool: number, bytes: number): void;
  /** The profile index, or -1 when TensorRT refused it (reason logged). */
  addOptimizationProfile(builder: NativeBuilder, inputs: readonly NativeProfileDims[]): number;
  /** `IBuilderConfig::getNbOptimizationProfiles`. */
  getNbOptimizationProfiles(): number;
}

/** A tensor as `INetworkDefinition` / `ICudaEngine` describe it (dtype: `nvinfer1::DataType` number; -1 dims are dynamic). */
export interface NativeTensorInfo {
  readonly name: string;
  readonly dtype: number;
  readonly dims: number[];
}

/** An `nvinfer1::INetworkDefinition` (native class `Network`); it keeps alive the ONNX parsers that filled it. */
export interface NativeNetwork extends NativeDisposable {
  /** `INetworkDefinition::getNbLayers`. */
  getNbLayers(): number;
  /** The network inputs (`getInput(i)`): name, type and dimensions. */
  getInputs(): NativeTensorInfo[];
  /** The network outputs (`getOutput(i)`): name, type and dimensions. */
  getOutputs(): NativeTensorInfo[];
  /** `INetworkDefinition::markWeightsRefittable` (for REFIT_INDIVIDUAL builds); TensorRT's boolean result. */
  markWeightsRefittable(name: string): boolean;
  /** `INetworkDefinition::unmarkWeightsRefittable`; TensorRT's boolean result. */
  unmarkWeightsRefittable(name: string): boolean;
  /** `INetworkDefinition::areWeightsMarkedRefittable`. */
  areWeightsMarkedRefittable(name: string): boolean;
}

/** `nvonnxparser::IParserError` (code: `nvonnxparser::ErrorCode` number). */
export interface NativeParserError {
  readonly code: number;
  readonly desc: string;
  readonly file: string;
  readonly line: number;
  readonly func: string;
  readonly node: number;
  readonly nodeName: string;
  readonly nodeOperator: string;
}

/** An `nvonnxparser::IParser` bound to one network (native class `OnnxParser`). */
export interface NativeOnnxParser extends NativeDisposable {
  /**
   * `IParser::parse` on a worker thread (`modelPath` locates external data; `bytes` is kept alive meanwhile).
   * Resolves to TensorRT's result; parser and network are busy until it settles.
   */
  parse(bytes: Uint8Array, modelPath: string | null): Promise<boolean>;
  /** `IParser::parseFromFile(path, verbosity)` on a worker thread; resolves to TensorRT's result. */
  parseFromFile(path: string, verbosity: number): Promise<boolean>;
  /** `IParser::getNbErrors`. */
  getNbErrors(): number;
  /** `IParser::getError(index)` as a plain object, or undefined past the last error. */
  getError(index: number): NativeParserError | undefined;
  /** `IParser::clearErrors`. */
  clearErrors(): void;
}

/** An `nvinfer1::IRuntime` (native class `Runtime`). */
export interface NativeRuntime extends NativeDisposable {
  /** Rejects with code ERR_TRT_REFIT_INVALID_PLAN when TensorRT returns null. */
  deserializeCudaEngine(plan: Uint8Array): Promise<NativeEngine>;
  /**
   * `IRuntime::loadRuntime(path)` on a worker thread: a child runtime for plans built with VERSION_COMPATIBLE and
   * EXCLUDE_LEAN_RUNTIME. Rejects with ERR_TRT_REFIT_INVALID_STATE when TensorRT returns null.
   */
  loadRuntime(path: string): Promise<NativeRuntime>;
  /** `IRuntime::setEngineHostCodeAllowed`. */
  setEngineHostCodeAllowed(allowed: boolean): void;
  /** `IRuntime::getEngineHostCodeAllowed`. */
  getEngineHostCodeAllowed(): boolean;
  /** `IRuntime::setErrorRecorder` (null detaches); the runtime keeps the recorder alive. */
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
  /** `IRuntime::setMaxThreads`; TensorRT's boolean result. */
  setMaxThreads(n: number): boolean;
}

/** An I/O tensor of an engine (mode: `TensorIOMode` number, 1 input, 2 output). */
export interface NativeIOTensor extends NativeTensorInfo {
  readonly mode: number;
}

/** An `nvinfer1::ICudaEngine` (native class `Engine`); it keeps its runtime alive. */
export interface NativeEngine extends NativeDisposable {
  /** `ICudaEngine::isRefittable`. */
  isRefittable(): boolean;
  /** `ICudaEngine::createSerializationConfig`. Throws ERR_TRT_REFIT_INVALID_STATE on null. */
  createSerializationConfig(): NativeSerializationConfig;
  /** `ICudaEngine::serialize`, synchronous: a zero-copy view of the returned `IHostMemory`. */
  serialize(): Uint8Array;
  /** `ICudaEngine::serializeWithConfig`, synchronous: a zero-copy view of the returned `IHostMemory`. */
  serializeWithConfig(config: NativeSerializationConfig): Uint8Array;
  /**
   * `ICudaEngine::getEngineStat` (0 TOTAL_WEIGHTS_SIZE, 1 STRIPPED_WEIGHTS_SIZE), in bytes. Throws
   * ERR_TRT_REFIT_UNSUPPORTED_FEATURE when the addon was built against headers older than TensorRT 10.14.
   */
  getEngineStat(stat: number): number;
  /** The engine inspector's JSON. */
  getEngineInformation(): string;
  /** `ICudaEngine::getNbLayers`. */
  getNbLayers(): number;
  /** Every I/O tensor (`getIOTensorName(i)`) with its mode, data type and shape. */
  getIOTensors(): NativeIOTensor[];
  /** `ICudaEngine::createExecutionContext`. Throws ERR_TRT_REFIT_EXECUTION_FAILED on null. */
  createExecutionContext(): NativeExecutionContext;
  /** `ICudaEngine::setErrorRecorder` (null detaches); the engine keeps the recorder alive. */
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
}

/** An `nvinfer1::ISerializationConfig` (native class `SerializationConfig`); flag arguments are bit numbers. */
export interface NativeSerializationConfig extends NativeDisposable {
  /** `ISerializationConfig::setFlags` with the whole `SerializationFlags` mask; TensorRT's boolean result. */
  setFlags(mask: number): boolean;
  /** `ISerializationConfig::getFlags`: the whole mask. */
  getFlags(): number;
  /** `ISerializationConfig::setFlag`; TensorRT's boolean result. */
  setFlag(bit: number): boolean;
  /** `ISerializationConfig::clearFlag`; TensorRT's boolean result. */
  clearFlag(bit: number): boolean;
  /** `ISerializationConfig::getFlag`. */
  getFlag(bit: number): boolean;
}

/** An input of {@link NativeExecutionContext.execute}. */
export interface NativeExecInput {
  readonly name: string;
  readonly data: ArrayBufferView;
  readonly dims: readonly number[];
}

/** An output of {@link NativeExecutionContext.execute} (dtype: `nvinfer1::DataType` number). */
export interface NativeExecOutput {
  readonly name: string;
  readonly dtype: number;
  readonly dims: number[];
  readonly data: ArrayBuffer;
}

/** An `nvinfer1::IExecutionContext` (native class `ExecutionContext`); it keeps its engine alive. */
export interface NativeExecutionContext extends NativeDisposable {
  /**
   * One inference: sets the input shapes, copies the inputs into a device arena the context keeps, runs
   * `enqueueV3` on `stream` (a private non-blocking stream when null) and copies the outputs back. Resolves once
   * the stream has completed. Throws ERR_TRT_REFIT_INVALID_STATE while a previous execute or a refit of the engine
   * runs; shape tensors and data-dependent output shapes are not supported.
   */
  execute(inputs: readonly NativeExecInput[], stream: NativeCudaStream | null): Promise<NativeExecOutput[]>;
}

/** What TensorRT holds for a name (`getNamedWeights`): location 0 device, 1 host. */
export interface NativeNamedWeights {
  readonly type: number;
  readonly count: number;
  readonly location: number;
  readonly address: bigint;
}

/** An `nvinfer1::IRefitter` (native class `Refitter`); it keeps its engine and its parser refitters alive. */
export interface NativeRefitter extends NativeDisposable {
  /** location: 0 device (values a NativeDeviceBuffer), 1 host (values an ArrayBufferView). */
  setNamedWeights(name: string, type: number, values: ArrayBufferView | NativeDeviceBuffer | null, count: number, location: number): boolean;
  /** `IRefitter::getNamedWeights` plus `getWeightsLocation`: what TensorRT currently holds, or null when unset. */
  namedWeights(name: string): NativeNamedWeights | null;
  /**
   * A host copy of the weights TensorRT holds for `name` (`cudaMemcpy` when they live on the device), e.g. those a
   * parser refitter converted; null when unset.
   */
  copyNamedWeights(name: string): Uint8Array | null;
  /** `IRefitter::getWeightsLocation` (`TensorLocation` number: 0 device, 1 host). */
  getWeightsLocation(name: string): number;
  /** `IRefitter::unsetNamedWeights`; TensorRT's boolean result. */
  unsetNamedWeights(name: string): boolean;
  /** `IRefitter::getMissingWeights`: names that must still be set before a refit. */
  getMissingWeights(): string[];
  /** `IRefitter::getAllWeights`: every refittable weights name. */
  getAllWeights(): string[];
  /** `IRefitter::getWeightsPrototype`: the type and element count TensorRT expects for `name`. */
  getWeightsPrototype(name: string): { type: number; count: number };
  /**
   * `IRefitter::refitCudaEngine` on a worker thread; resolves to TensorRT's result. Refitter and engine are busy
   * until it settles; throws ERR_TRT_REFIT_INVALID_STATE when the engine is already being refitted.
   */
  refitCudaEngine(): Promise<boolean>;
  /** `IRefitter::refitCudaEngineAsync(stream)` on a worker thread, as {@link NativeRefitter.refitCudaEngine}. */
  refitCudaEngineAsync(stream: NativeCudaStream): Promise<boolean>;
  /** `IRefitter::setMaxThreads`; TensorRT's boolean result. */
  setMaxThreads(n: number): boolean;
  /** `IRefitter::getMaxThreads`. */
  getMaxThreads(): number;
  /** `IRefitter::setWeightsValidation`. */
  setWeightsValidation(enabled: boolean): void;
  /** `IRefitter::getWeightsValidation`. */
  getWeightsValidation(): boolean;
  /** `IRefitter::setErrorRecorder` (null detaches); the refitter keeps the recorder alive. */
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
  /** `IRefitter::setWeights(layerName, role, weights)`, the legacy layer + role API (host values only). */
  setWeights(layerName: string, role: number, type: number, values: ArrayBufferView | null, count: number): boolean;
  /** `IRefitter::getMissing`: layer + role pairs still to set (`WeightsRole` numbers). */
  getMissing(): { layerName: string; role: number }[];
  /** `IRefitter::getAll`: every refittable layer + role pair (`WeightsRole` numbers). */
  getAll(): { layerName: string; role: number }[];
}

/** An `nvonnxparser::IParserRefitter` bound to one refitter (native class `ParserRefitter`). */
export interface NativeParserRefitter extends NativeDisposable {
  /** `IParserRefitter::refitFromFile(path)` on a worker thread; resolves to TensorRT's result. */
  refitFromFile(path: string): Promise<boolean>;
  /** `IParserRefitter::refitFromBytes` on a worker thread (`modelPath` locates external data). */
  refitFromBytes(bytes: Uint8Array, modelPath: string | null): Promise<boolean>;
  /** `IParserRefitter::loadModelProto` on a worker thread (TensorRT 10.13+ headers, else ERR_TRT_REFIT_UNSUPPORTED_FEATURE). */
  loadModelProto(bytes: Uint8Array, modelPath: string | null): Promise<boolean>;
  /**
   * `IParserRefitter::loadInitializer`, synchronous; on success `data` stays referenced until the parser
   * refitter is gone (TensorRT keeps the pointer). TensorRT 10.13+ headers.
   */
  loadInitializer(name: string, data: ArrayBufferView): boolean;
  /** `IParserRefitter::refitModelProto` on a worker thread (TensorRT 10.13+ headers). */
  refitModelProto(): Promise<boolean>;
  /** `IParserRefitter::getNbErrors`. */
  getNbErrors(): number;
  /** `IParserRefitter::getError(index)` as a plain object, or undefined past the last error. */
  getError(index: number): NativeParserError | undefined;
  /** `IParserRefitter::clearErrors`. */
  clearErrors(): void;
}

/** `binding.tensorrt`, present only when the addon was compiled against TensorRT headers. */
export interface NativeTensorRtModule {
  readonly headerVersion: string;
  /**
   * dlopens `libnvinfer` and `libnvonnxparser` of the header's major (from `libDir` only, when given) and checks
   * the version. After a success the same library stays loaded for the process; a failure may be retried.
   */
  load(libDir: string | null): NativeTensorRtLoadResult;
  /** `createInferBuilder` with the sink's logger. Throws ERR_TRT_REFIT_BACKEND_UNAVAILABLE when TensorRT is not loaded or returns null. */
  createBuilder(sink: NativeLogSink): NativeBuilder;
  /** `createInferRuntime` with the sink's logger. Throws ERR_TRT_REFIT_BACKEND_UNAVAILABLE when TensorRT is not loaded or returns null. */
  createRuntime(sink: NativeLogSink): NativeRuntime;
  /** Throws with code ERR_TRT_REFIT_NOT_REFITTABLE for an engine that is not refittable. */
  createRefitter(engine: NativeEngine, sink: NativeLogSink): NativeRefitter;
  /** `createNvOnnxParser` on `network`, which then keeps the parser alive. Throws ERR_TRT_REFIT_BACKEND_UNAVAILABLE without libnvonnxparser. */
  createOnnxParser(network: NativeNetwork, sink: NativeLogSink): NativeOnnxParser;
  /** `createNvOnnxParserRefitter` on `refitter`, which then keeps it alive. Throws ERR_TRT_REFIT_BACKEND_UNAVAILABLE without libnvonnxparser. */
  createParserRefitter(refitter: NativeRefitter, sink: NativeLogSink): NativeParserRefitter;
  /** The pointer TensorRT would receive for these values (0n for null). */
  addressOf(values: ArrayBufferView | NativeDeviceBuffer | null): bigint;
  readonly LogSink: new (notify: () => void, minSeverity: number, capacity?: number) => NativeLogSink;
  readonly ErrorRecorderBridge: new (notify: () => void, capacity: number) => NativeErrorRecorderBridge;
}

/** The addon's exports. */
export interface NativeBinding {
  readonly info: NativeBuildInfo;
  readonly cuda: NativeCudaModule;
  readonly tensorrt?: NativeTensorRtModule;
}
