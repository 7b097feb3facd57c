import { DataType, byteLengthFor, type CudaStream, type ExecutionContext, type HostTensor } from '@trt-refit/core';
import { bf16ToFloat, halfToFloat } from '@trt-refit/onnx';
import type { NativeExecInput, NativeExecOutput, NativeExecutionContext as RawContext } from './binding.js';
import { nativeStreamOf } from './device.js';
import type { LogBridge } from './diagnostics.js';
import type { NativeCudaEngine } from './engine.js';
import { dataTypeName } from './native-enums.js';
import { NativeResource } from './native-resource.js';
import { rangeError, typeError } from './validate.js';

/** The typed array a tensor of `dtype` is given and returned as (Uint8Array always works as raw bytes). */
const ARRAY_FOR: Partial<Record<DataType, string>> = {
  FLOAT: 'Float32Array',
  INT32: 'Int32Array',
  INT64: 'BigInt64Array',
  UINT8: 'Uint8Array',
  BOOL: 'Uint8Array',
  INT8: 'Uint8Array',
  FP8: 'Uint8Array',
  E8M0: 'Uint8Array',
};

function volume(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A HostTensor from an output's bytes; HALF and BF16 are widened to Float32Array (HostTensor has no 16-bit type). */
export function outputTensor(out: NativeExecOutput): HostTensor {
  const dtype = dataTypeName(out.dtype);
  const dims = out.dims;
  switch (dtype) {
    case DataType.FLOAT:
      return { data: new Float32Array(out.data), dims };
    case DataType.INT32:
      return { data: new Int32Array(out.data), dims };
    case DataType.INT64:
      return { data: new BigInt64Array(out.data), dims };
    case DataType.HALF: {
      const h = new Uint16Array(out.data);
      return { data: Float32Array.from(h, halfToFloat), dims };
    }
    case DataType.BF16: {
      return { data: Float32Array.from(new Uint16Array(out.data), bf16ToFloat), dims };
    }
    default:
      return { data: new Uint8Array(out.data), dims };
  }
}

/**
 * `IExecutionContext`: runs the engine on host tensors (copied to and from device memory). Stays valid across
 * refits; an execution waits for a refit of the same engine in progress, and the other way round.
 */
export class NativeExecutionContext extends NativeResource<RawContext> implements ExecutionContext {
  /** @internal */
  constructor(
    native: RawContext,
    log: LogBridge,
    private readonly engine: NativeCudaEngine,
  ) {
    super(native, log, 'ExecutionContext');
  }

  /**
   * IExecutionContext::execute: see {@link ExecutionContext.execute}. Here: inputs are checked in TS (names, dims,
   * typed array kind and byte length); the addon then copies them to device memory, runs `enqueueV3` on `stream`
   * (a private stream when omitted) and copies the outputs back, queued behind any refit of the same engine.
   * HALF and BF16 outputs come back as Float32Array.
   */
  async execute(inputs: Record<string, HostTensor>, stream?: CudaStream): Promise<Record<string, HostTensor>> {
    this.live();
    if (inputs === null || typeof inputs !== 'object') throw typeError('inputs', 'an object of { data, dims } by input name', inputs);
    const io = this.engine.getIOTensors();
    const wanted = io.filter((t) => t.mode === 'INPUT');
    const list: NativeExecInput[] = [];
    for (const [name, tensor] of Object.entries(inputs)) {
      const info = wanted.find((t) => t.name === name);
      if (!info) throw typeError(`inputs[${JSON.stringify(name)}]`, `one of the engine's inputs (${wanted.map((t) => t.name).join(', ')})`, name);
      if (tensor === null || typeof tensor !== 'object') throw typeError(`inputs.${name}`, 'a { data, dims } tensor', tensor);
      const dims = tensor.dims;
      if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw typeError(`inputs.${name}.dims`, 'an array of non-negative integers', dims);
      }
      const data = tensor.data as unknown;
      if (!ArrayBuffer.isView(data)) throw typeError(`inputs.${name}.data`, 'a typed array', data);
      const expectedArray = ARRAY_FOR[info.dtype];
      const bytes = byteLengthFor(info.dtype, volume(dims));
      if (!(data instanceof Uint8Array) && data.constructor.name !== expectedArray) {
        throw typeError(`inputs.${name}.data`, `a ${expectedArray ?? 'Uint8Array (raw bytes)'} for a ${info.dtype} input`, data);
      }
      if (data.byteLength !== bytes) {
        throw rangeError(`inputs.${name}.data`, `${bytes} bytes for ${info.dtype} [${dims.join(", ")}]`, data);
      }
      list.push({ name, data, dims });
    }
    const missing = wanted.filter((t) => !(t.name in inputs)).map((t) => t.name);
    if (missing.length) throw typeError('inputs', `values for every engine input (missing: ${missing.join(', ')})`, Object.keys(inputs));
    const rawStream = stream === undefined ? null : nativeStreamOf(stream);
    const outputs = await this.engine.queue.run(() => this.callAsync((n) => n.execute(list, rawStream)));
    return Object.fromEntries(outputs.map((o) => [o.name, outputTensor(o)]));
  }
}
