import { resolve } from 'node:path';
import { severityNumber } from './native-enums.js';
import type { OnnxParser, ParserError } from '@trt-refit/core';
import type { NativeOnnxParser as RawParser } from './binding.js';
import type { LogBridge } from './diagnostics.js';
import type { NativeNetworkDefinition } from './network.js';
import { NativeResource } from './native-resource.js';
import { toParserError } from './parser-error.js';
import { expectBytes, expectOptionalString, expectSize, expectString } from './validate.js';
import type { Severity } from '@trt-refit/core';

/**
 * TensorRT's ONNX parser (`nvonnxparser::IParser`) filling a native network. Parsing runs on a worker thread; a
 * model TensorRT cannot read resolves to false with the reasons in `getError(i)`.
 */
export class NativeOnnxParser extends NativeResource<RawParser> implements OnnxParser {
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
    if (ok) this.network.markParsed();
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
    if (ok) this.network.markParsed();
    return ok;
  }

  /** IParser::getNbErrors: see {@link OnnxParser.getNbErrors}. Here: TensorRT's count. */
  getNbErrors(): number {
    return this.call((n) => n.getNbErrors());
  }

  /** IParser::getError: see {@link OnnxParser.getError}. Here: TensorRT's error, converted; undefined past the last. */
  getError(index: number): ParserError | undefined {
    const i = expectSize(index, 'index');
    return this.call((n) => toParserError(n.getError(i)));
  }

  /** IParser::clearErrors: see {@link OnnxParser.clearErrors}. Here: forwarded to TensorRT. */
  clearErrors(): void {
    this.call((n) => n.clearErrors());
  }
}
