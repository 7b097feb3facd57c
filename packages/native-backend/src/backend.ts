import {
  NotRefittableError,
  TrtRefitError,
  TrtRefitErrorCode,
  type Backend,
  type CudaEngine,
  type Logger,
  type NetworkDefinition,
  type Refitter,
} from '@trt-refit/core';
import { NativeBuilder } from './builder.js';
import type { NativeContext } from './context.js';
import { NativeCudaEngine } from './engine.js';
import { errorsOf, type LogBridge } from './diagnostics.js';
import { fromNative } from './native-errors.js';
import { NativeNetworkDefinition } from './network.js';
import { NativeOnnxParser } from './onnx-parser.js';
import { NativeParserRefitter } from './parser-refitter.js';
import { NativeRefitter } from './refitter.js';
import { NativeRuntime } from './runtime.js';
import { typeError } from './validate.js';
import type { NativeDeviceApi } from './device.js';

function checkLogger(logger: unknown): Logger | undefined {
  if (logger === undefined) return undefined;
  if (logger === null || typeof logger !== 'object' || typeof (logger as Logger).log !== 'function') {
    throw typeError('logger', 'a Logger ({ log(severity, message) }) or undefined', logger);
  }
  return logger as Logger;
}

/** Runs a native factory; TensorRT's errors logged meanwhile are added to a failure. */
function create<T>(log: LogBridge, fn: () => T): T {
  const mark = log.mark();
  try {
    return fn();
  } catch (e) {
    throw fromNative(e, errorsOf(log.since(mark)));
  } finally {
    log.flush();
  }
}

/**
 * The core {@link Backend} over real TensorRT and CUDA. Obtain it with `loadNativeBackend()`; the addon binding
 * is injected, so the adapter is the same code whether it drives the real addon or a test fake.
 */
export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly tensorrtVersion: string;
  readonly device: NativeDeviceApi;

  /** @internal */
  constructor(private readonly ctx: NativeContext) {
    this.tensorrtVersion = ctx.version;
    this.device = ctx.device;
  }

  /**
   * Backend::createBuilder: see {@link Backend.createBuilder}. Here: TensorRT's `createInferBuilder`, its messages
   * going to `logger` (or the backend's default logger); fails with TensorRT's logged errors, e.g. without a CUDA
   * device.
   */
  createBuilder(logger?: Logger): NativeBuilder {
    const log = this.ctx.logFor(checkLogger(logger));
    return new NativeBuilder(create(log, () => this.ctx.tensorrt.createBuilder(log.sink)), log, this.ctx);
  }

  /**
   * Backend::createRuntime: see {@link Backend.createRuntime}. Here: TensorRT's `createInferRuntime`, its messages
   * going to `logger` (or the backend's default logger).
   */
  createRuntime(logger?: Logger): NativeRuntime {
    const log = this.ctx.logFor(checkLogger(logger));
    return new NativeRuntime(create(log, () => this.ctx.tensorrt.createRuntime(log.sink)), log, this.ctx);
  }

  /** Throws NotRefittableError for an engine built without a refit flag. */
  createRefitter(engine: CudaEngine, logger?: Logger): NativeRefitter {
    if (!(engine instanceof NativeCudaEngine)) throw typeError('engine', 'an engine of the native backend', engine);
    const log = this.ctx.logFor(checkLogger(logger));
    if (!engine.isRefittable()) throw new NotRefittableError();
    return new NativeRefitter(create(log, () => this.ctx.tensorrt.createRefitter(engine.raw(), log.sink)), log, engine, this.ctx);
  }

  /** TensorRT's ONNX parser over a network of this backend's builder. */
  createOnnxParser(network: NetworkDefinition, logger?: Logger): NativeOnnxParser {
    if (!(network instanceof NativeNetworkDefinition)) throw typeError('network', 'a network from a native builder (builder.createNetwork())', network);
    this.requireParser();
    const log = this.ctx.logFor(checkLogger(logger));
    return new NativeOnnxParser(create(log, () => this.ctx.tensorrt.createOnnxParser(network.live(), log.sink)), log, network, this.ctx.logSeverity);
  }

  /** TensorRT's ONNX parser refitter over a refitter of this backend. */
  createParserRefitter(refitter: Refitter, logger?: Logger): NativeParserRefitter {
    if (!(refitter instanceof NativeRefitter)) throw typeError('refitter', 'a refitter of the native backend', refitter);
    this.requireParser();
    const log = this.ctx.logFor(checkLogger(logger));
    const parserRefitter = new NativeParserRefitter(create(log, () => this.ctx.tensorrt.createParserRefitter(refitter.raw(), log.sink)), log, refitter, this.ctx);
    refitter.adopt(parserRefitter);
    return parserRefitter;
  }

  private requireParser(): void {
    if (!this.ctx.parserAvailable) {
      throw new TrtRefitError(TrtRefitErrorCode.BACKEND_UNAVAILABLE, `the TensorRT ONNX parser is unavailable: ${this.ctx.parserProblem ?? 'libnvonnxparser was not loaded'}`);
    }
  }
}
