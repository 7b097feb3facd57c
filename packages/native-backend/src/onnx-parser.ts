import { resolve } from 'node:path';
import { severityNumber } from './native-enums.js';
import type { OnnxParser } from '@trt-refit/core';
import type { NativeOnnxParser as RawParser } from './binding.js';
import type { LogBridge } from './diagnostics.js';
import type { NativeNetworkDefinition } from './network.js';
import { NativeParserBase } from './parser-error.js';
import { expectBytes, expectOptionalString, expectString } from './validate.js';
import type { Severity } from '@trt-refit/core';

/**
 * TensorRT's ONNX parser (`nvonnxparser::IParser`) filling a native network. Parsing runs on a worker thread; a
 * model TensorRT cannot read resolves to false with the reasons in `getError(i)`.
 */
export class NativeOnnxParser extends NativeParserBase<RawParser> implements OnnxParser {
  /** @internal */
  constructor(
    native: RawParser,
    log: LogBridge,
    private readonly network: NativeNetworkDefinition,
    private readonly severity: Severity,
  ) {
    super(native, log, 'OnnxParser');
  }

  /** Parses serialized ONNX; `modelPath` locates external data (made absolute, as TensorRT requires). */
  async parse(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    const data = expectBytes(bytes, 'bytes');
    const path = expectOptionalString(modelPath, 'modelPath');
    this.network.live();
    const ok = await this.callAsync((n) => n.parse(data, path === undefined ? null : resolve(path)));
    if (ok) {
      this.network.markParsed();
      this.network.onnxSource = { bytes: data, modelPath: path === undefined ? undefined : resolve(path) };
    }
    return ok;
  }

  /**
   * IParser::parseFromFile: see {@link OnnxParser.parseFromFile}. Here: TensorRT reads the file on a worker thread,
   * logging at the backend's log severity; on success the network's inputs and outputs are read back.
   */
  async parseFromFile(path: string): Promise<boolean> {
    const file = expectString(path, 'path');
    this.network.live();
    const ok = await this.callAsync((n) => n.parseFromFile(file, severityNumber(this.severity)));
    if (ok) {
      this.network.markParsed();
      this.network.onnxSource = { path: resolve(file) };
    }
    return ok;
  }
}
