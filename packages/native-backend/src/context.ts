import type { BuilderFlag, Logger, Severity } from '@trt-refit/core';
import type { NativeTensorRtModule } from './binding.js';
import type { NativeDeviceApi } from './device.js';
import type { LogBridge, LogBridges } from './diagnostics.js';

/** Sizes given to a dynamic dimension when no optimization profile names it. */
export interface DynamicDimRange {
  readonly min: number;
  readonly opt: number;
  readonly max: number;
}

/** @internal What every object of one native backend shares. */
export interface NativeContext {
  readonly tensorrt: NativeTensorRtModule;
  readonly device: NativeDeviceApi;
  /** The loaded TensorRT, e.g. `"10.16.1"`. */
  readonly version: string;
  readonly major: number;
  readonly flagBits: Readonly<Record<BuilderFlag, number>>;
  readonly logBridges: LogBridges;
  readonly defaultLogger: Logger;
  readonly logSeverity: Severity;
  readonly dynamicDims: DynamicDimRange;
  readonly parserAvailable: boolean;
  /** Why the ONNX parser is unavailable, when it is. */
  readonly parserProblem: string | undefined;
  logFor(logger: Logger | undefined): LogBridge;
}
