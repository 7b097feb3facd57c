/**
 * trt-refit over real TensorRT and CUDA, through an N-API addon (`build:native` compiles it; `pnpm install`
 * never does). TensorRT and the CUDA runtime are opened at run time, so this package imports and probes cleanly
 * on any machine: {@link probeNativeBackend} says what is missing, {@link loadNativeBackend} returns the core
 * `Backend` or throws `BackendUnavailableError` listing every cause and its fix.
 *
 * @example
 * ```ts
 * import { loadNativeBackend, probeNativeBackend } from '@trt-refit/native-backend';
 * const probe = probeNativeBackend();
 * if (probe.available) {
 *   const backend = loadNativeBackend();
 *   const buffer = backend.device.fromHost(new Float32Array([1, 2, 3]));
 * }
 * ```
 * @packageDocumentation
 */
export { NativeBackend } from './backend.js';
export {
  diagnoseNativeBackend,
  loadNativeBackend,
  loadNativeDevice,
  probeNativeBackend,
  type BackendProbe,
  type NativeBackendOptions,
  type NativeDiagnosis,
} from './load-native-backend.js';
export { NativeDeviceApi, NativeDeviceBuffer, NativeCudaStream, NativeCudaEvent, type DeviceOptions, type NativeDeviceProperties } from './device.js';
export { NativeBuilder, NativeBuilderConfig, type ProfileDims } from './builder.js';
export { NativeNetworkDefinition } from './network.js';
export { NativeOnnxParser } from './onnx-parser.js';
export { NativeRuntime } from './runtime.js';
export { NativeCudaEngine, type IOTensorInfo } from './engine.js';
export { NativeSerializationConfig } from './serialization-config.js';
export { NativeExecutionContext } from './execution-context.js';
export { NativeRefitter } from './refitter.js';
export { DeviceWeightsStreamer, dim0Shards, type DeviceStreamerStats, type DeviceWeightsStreamerOptions, type ShardRange } from './device-streamer.js';
export {
  DeviceLoraMerger,
  concatLoraFactors,
  loraElementSize,
  loraScale,
  type DeviceLoraFactor,
  type DeviceLoraMergeOptions,
  type DeviceLoraWeights,
  type HostLoraFactor,
  type LoraBaseWeight,
  type LoraDeviceStatus,
  type LoraLayout,
  type LoraWeightType,
} from './lora-device.js';
export { NativeParserRefitter } from './parser-refitter.js';
export { planIdentityManifest, onnxIdentityManifest, type OnnxSource } from './identity.js';
export { parseEngineLayers } from './engine-inspector.js';
export { addonCandidates, loadBinding, nativeBuildCommand, type BindingAttempt, type BindingResult, type NativeBuildRecord } from './load-binding.js';
export type { DynamicDimRange } from './context.js';
export type * as Binding from './binding.js';
