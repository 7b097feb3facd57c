import { readFile } from 'node:fs/promises';
import { Severity, silentLogger, type Logger, type NetworkDefinition, type OnnxParser, type ParserError } from '@trt-refit/core';
import { importOnnxModel } from './importer.js';
import { parseOnnxModel } from './onnx-model.js';

/**
 * `nvonnxparser::IParser` in TypeScript: fills a core network with {@link importOnnxModel}. Backends without a
 * parser of their own (the mock) return it from `createOnnxParser`.
 */
export class TsOnnxParser implements OnnxParser {
  private readonly errors: ParserError[] = [];
  constructor(private readonly network: NetworkDefinition, private readonly logger: Logger = silentLogger) {}

  async parse(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    let model;
    try {
      model = parseOnnxModel(bytes, modelPath ? { modelPath } : {});
    } catch (e) {
      return this.fail({ code: 'MODEL_DESERIALIZE_FAILED', desc: (e as Error).message, node: -1, nodeName: '', nodeOperator: '' });
    }
    const { errors } = await importOnnxModel(model, this.network, { onWarning: (m) => this.logger.log(Severity.WARNING, m) });
    for (const e of errors) this.fail(e);
    return errors.length === 0;
  }

  async parseFromFile(path: string): Promise<boolean> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      return this.fail({ code: 'MODEL_DESERIALIZE_FAILED', desc: `cannot read ${path}: ${(e as Error).message}`, node: -1, nodeName: '', nodeOperator: '' });
    }
    return this.parse(bytes, path);
  }

  getNbErrors(): number {
    return this.errors.length;
  }
  getError(index: number): ParserError | undefined {
    return this.errors[index];
  }
  clearErrors(): void {
    this.errors.length = 0;
  }
  private fail(e: ParserError): false {
    this.errors.push(e);
    this.logger.log(Severity.ERROR, e.desc);
    return false;
  }
}
