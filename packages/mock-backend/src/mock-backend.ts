import {
  InvalidArgumentError,
  NEWEST_KNOWN_TENSORRT,
  OLDEST_SUPPORTED_TENSORRT,
  compareTensorRtVersions,
  formatTensorRtVersion,
  parseTensorRtVersion,
  silentLogger,
  withFacades,
  type Backend,
  type CudaEngine,
  type Logger,
  type NetworkDefinition,
  type OnnxParser,
  type ParserRefitter,
  type Refitter,
} from '@trt-refit/core';
import { OnnxParserRefitter, TsOnnxParser } from '@trt-refit/onnx';
import { emulatedDevice } from './device.js';
import { MockBuilder } from './mock-builder.js';
import { MockEngine } from './mock-engine.js';
import { MockRefitter } from './mock-refitter.js';
import { MockRuntime } from './mock-runtime.js';
import { inspectPlan } from './inspect-plan.js';
import { isPlan, readPlan } from './plan-file.js';

/** Options of {@link createMockBackend}. */
export interface MockBackendOptions {
  /** Emulated TensorRT version (default the newest known 10.x); APIs and flags it lacks are refused. */
  readonly tensorrtVersion?: string;
}

/**
 * TensorRT's refit behaviour without a GPU.
 *
 * @example
 * ```ts
 * const backend = createMockBackend({ tensorrtVersion: '10.13' }); // INCLUDE_REFIT refused, as on 10.13
 * ```
 */
export function createMockBackend(options: MockBackendOptions = {}): Backend {
  const v = parseTensorRtVersion(options.tensorrtVersion ?? NEWEST_KNOWN_TENSORRT);
  const version = formatTensorRtVersion(v);
  if (compareTensorRtVersions(v, OLDEST_SUPPORTED_TENSORRT) < 0 || v.major > 11) {
    throw new InvalidArgumentError(`the mock emulates TensorRT ${OLDEST_SUPPORTED_TENSORRT} to 11.x, received ${version}`);
  }
  return withFacades({
    name: 'mock',
    tensorrtVersion: version,
    device: emulatedDevice,
    createBuilder: (logger?: Logger) => new MockBuilder(version, logger),
    createRuntime: (logger?: Logger) => new MockRuntime(version, logger),
    createRefitter(engine: CudaEngine, logger?: Logger): Refitter {
      if (!(engine instanceof MockEngine)) throw new InvalidArgumentError('createRefitter: the engine must come from this backend');
      return new MockRefitter(engine, logger);
    },
    createOnnxParser: (network: NetworkDefinition, logger?: Logger): OnnxParser => new TsOnnxParser(network, logger),
    createParserRefitter: (refitter: Refitter, logger: Logger = silentLogger): ParserRefitter =>
      new OnnxParserRefitter(refitter, logger, { tensorrtVersion: version }),
    planReader: {
      isPlan,
      describe: inspectPlan,
      weights: (plan: Uint8Array) => readPlan(plan).weights.map((w) => ({ name: w.name, dtype: w.dtype, dims: w.dims, data: w.data })),
    },
  });
}
