/**
 * The whole surface of the native addon (`trt_refit_native.node`), typed in one place. Nothing here is public API:
 * the backend classes receive a {@link NativeBinding} (the real addon, or a fake in unit tests) and adapt it to
 * the core interfaces. Enum-like arguments are TensorRT's numbers for the major the addon was compiled against;
 * the TS side maps names to numbers (see `native-enums.ts`).
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
  upload(src: ArrayBufferView, offset?: number): void;
  download(dst: ArrayBufferView, offset?: number): void;
  uploadAsync(src: ArrayBufferView, stream: NativeCudaStream, offset?: number): Promise<void>;
  downloadAsync(dst: ArrayBufferView, stream: NativeCudaStream, offset?: number): Promise<void>;
  dispose(): void;
}

/** A `cudaStream_t` (native class `CudaStream`). */
export interface NativeCudaStream {
  readonly disposed: boolean;
  readonly deviceId: number;
  readonly handle: bigint;
  synchronize(): Promise<void>;
  query(): boolean;
  waitEvent(event: NativeCudaEvent): void;
  dispose(): void;
}

/** A `cudaEvent_t` (native class `CudaEvent`). */
export interface NativeCudaEvent {
  readonly disposed: boolean;
  record(stream: NativeCudaStream): void;
  synchronize(): Promise<void>;
  query(): boolean;
  /** Milliseconds from `start` to this event; both need timing enabled. */
  elapsedTime(start: NativeCudaEvent): number;
  dispose(): void;
}

/** `binding.cuda`. Every function but `status` throws a coded error when the runtime is not loaded. */
export interface NativeCudaModule {
  status(): NativeCudaStatus;
  deviceCount(): number;
  getDevice(): number;
  setDevice(deviceId: number): void;
  deviceProperties(deviceId: number): NativeDeviceProperties;
  memGetInfo(): { free: number; total: number };
  allocate(byteLength: number): NativeDeviceBuffer;
  /** An ArrayBuffer over page-locked memory (`cudaHostAlloc`), freed by its finalizer. */
  allocatePinned(byteLength: number): ArrayBuffer;
  isPinned(view: ArrayBufferView | ArrayBuffer): boolean;
  createStream(): NativeCudaStream;
  createEvent(timing: boolean): NativeCudaEvent;
  synchronizeDevice(): Promise<void>;
  /** Bytes of pinned staging memory the addon keeps cached. */
  stagingBytes(): number;
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
  drain(): [number, string][];
  setMinSeverity(severity: number): void;
  close(): void;
}

/** An `IErrorRecorder` (native class `ErrorRecorderBridge`); `drain` returns `[code, description]` pairs. */
export interface NativeErrorRecorderBridge {
  drain(): [number, string][];
  clear(): void;
  close(): void;
}

/** Things with an explicit, idempotent native `dispose()`. */
export interface NativeDisposable {
  readonly disposed: boolean;
  dispose(): void;
}

export interface NativeBuilder extends NativeDisposable {
  createNetwork(): NativeNetwork;
  createBuilderConfig(): NativeBuilderConfig;
  /** Zero-copy view of TensorRT's `IHostMemory`. Rejects with code ERR_TRT_REFIT_BUILD_FAILED. */
  buildSerializedNetwork(network: NativeNetwork, config: NativeBuilderConfig): Promise<Uint8Array>;
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
  setMaxThreads(n: number): boolean;
}

/** One input of an optimization profile. */
export interface NativeProfileDims {
  readonly name: string;
  readonly min: readonly number[];
  readonly opt: readonly number[];
  readonly max: readonly number[];
}

export interface NativeBuilderConfig extends NativeDisposable {
  /** The whole `BuilderFlags` mask, bit numbers of the loaded major. */
  setFlags(mask: number): void;
  getFlags(): number;
  setProfilingVerbosity(verbosity: number): void;
  getProfilingVerbosity(): number;
  setMemoryPoolLimit(pool: number, bytes: number): void;
  /** The profile index, or -1 when TensorRT refused it (reason logged). */
  addOptimizationProfile(builder: NativeBuilder, inputs: readonly NativeProfileDims[]): number;
  getNbOptimizationProfiles(): number;
}

/** A tensor as `INetworkDefinition` / `ICudaEngine` describe it (dtype: `nvinfer1::DataType` number; -1 dims are dynamic). */
export interface NativeTensorInfo {
  readonly name: string;
  readonly dtype: number;
  readonly dims: number[];
}

export interface NativeNetwork extends NativeDisposable {
  getNbLayers(): number;
  getInputs(): NativeTensorInfo[];
  getOutputs(): NativeTensorInfo[];
  markWeightsRefittable(name: string): boolean;
  unmarkWeightsRefittable(name: string): boolean;
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

export interface NativeOnnxParser extends NativeDisposable {
  parse(bytes: Uint8Array, modelPath: string | null): Promise<boolean>;
  parseFromFile(path: string, verbosity: number): Promise<boolean>;
  getNbErrors(): number;
  getError(index: number): NativeParserError | undefined;
  clearErrors(): void;
}

export interface NativeRuntime extends NativeDisposable {
  /** Rejects with code ERR_TRT_REFIT_INVALID_PLAN when TensorRT returns null. */
  deserializeCudaEngine(plan: Uint8Array): Promise<NativeEngine>;
  loadRuntime(path: string): Promise<NativeRuntime>;
  setEngineHostCodeAllowed(allowed: boolean): void;
  getEngineHostCodeAllowed(): boolean;
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
  setMaxThreads(n: number): boolean;
}

/** An I/O tensor of an engine (mode: `TensorIOMode` number, 1 input, 2 output). */
export interface NativeIOTensor extends NativeTensorInfo {
  readonly mode: number;
}

export interface NativeEngine extends NativeDisposable {
  isRefittable(): boolean;
  createSerializationConfig(): NativeSerializationConfig;
  serialize(): Uint8Array;
  serializeWithConfig(config: NativeSerializationConfig): Uint8Array;
  getEngineStat(stat: number): number;
  /** The engine inspector's JSON. */
  getEngineInformation(): string;
  getNbLayers(): number;
  getIOTensors(): NativeIOTensor[];
  createExecutionContext(): NativeExecutionContext;
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
}

export interface NativeSerializationConfig extends NativeDisposable {
  setFlags(mask: number): boolean;
  getFlags(): number;
  setFlag(bit: number): boolean;
  clearFlag(bit: number): boolean;
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

export interface NativeExecutionContext extends NativeDisposable {
  execute(inputs: readonly NativeExecInput[], stream: NativeCudaStream | null): Promise<NativeExecOutput[]>;
}

/** What TensorRT holds for a name (`getNamedWeights`): location 0 device, 1 host. */
export interface NativeNamedWeights {
  readonly type: number;
  readonly count: number;
  readonly location: number;
  readonly address: bigint;
}

export interface NativeRefitter extends NativeDisposable {
  /** location: 0 device (values a NativeDeviceBuffer), 1 host (values an ArrayBufferView). */
  setNamedWeights(name: string, type: number, values: ArrayBufferView | NativeDeviceBuffer | null, count: number, location: number): boolean;
  namedWeights(name: string): NativeNamedWeights | null;
  copyNamedWeights(name: string): Uint8Array | null;
  getWeightsLocation(name: string): number;
  unsetNamedWeights(name: string): boolean;
  getMissingWeights(): string[];
  getAllWeights(): string[];
  getWeightsPrototype(name: string): { type: number; count: number };
  refitCudaEngine(): Promise<boolean>;
  refitCudaEngineAsync(stream: NativeCudaStream): Promise<boolean>;
  setMaxThreads(n: number): boolean;
  getMaxThreads(): number;
  setWeightsValidation(enabled: boolean): void;
  getWeightsValidation(): boolean;
  setErrorRecorder(recorder: NativeErrorRecorderBridge | null): void;
  setWeights(layerName: string, role: number, type: number, values: ArrayBufferView | null, count: number): boolean;
  getMissing(): { layerName: string; role: number }[];
  getAll(): { layerName: string; role: number }[];
}

export interface NativeParserRefitter extends NativeDisposable {
  refitFromFile(path: string): Promise<boolean>;
  refitFromBytes(bytes: Uint8Array, modelPath: string | null): Promise<boolean>;
  loadModelProto(bytes: Uint8Array, modelPath: string | null): Promise<boolean>;
  loadInitializer(name: string, data: ArrayBufferView): boolean;
  refitModelProto(): Promise<boolean>;
  getNbErrors(): number;
  getError(index: number): NativeParserError | undefined;
  clearErrors(): void;
}

/** `binding.tensorrt`, present only when the addon was compiled against TensorRT headers. */
export interface NativeTensorRtModule {
  readonly headerVersion: string;
  load(libDir: string | null): NativeTensorRtLoadResult;
  createBuilder(sink: NativeLogSink): NativeBuilder;
  createRuntime(sink: NativeLogSink): NativeRuntime;
  /** Throws with code ERR_TRT_REFIT_NOT_REFITTABLE for an engine that is not refittable. */
  createRefitter(engine: NativeEngine, sink: NativeLogSink): NativeRefitter;
  createOnnxParser(network: NativeNetwork, sink: NativeLogSink): NativeOnnxParser;
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
