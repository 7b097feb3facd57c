import { Severity, silentLogger, type Logger, type NetworkDefinition, type OnnxParser, type ParserError } from '@trt-refit/core';
import { importOnnxModel } from './importer.js';
import { openOnnxModel, parseOnnxModel, type OnnxModel } from './onnx-model.js';

/**
 * `nvonnxparser::IParser` in TypeScript: fills a core network with {@link importOnnxModel}. Backends without a
 * parser of their own (the mock) return it from `createOnnxParser`.
 */
export class TsOnnxParser implements OnnxParser {
  private readonly errors: ParserError[] = [];
  constructor(private readonly network: NetworkDefinition, private readonly logger: Logger = silentLogger) {}

  /** Parses a serialized model; `modelPath` (the .onnx file) anchors external data. */
  async parse(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    let model: OnnxModel;
    try {
      model = parseOnnxModel(bytes, modelPath ? { modelPath } : {});
    } catch (e) {
      return this.fail({ code: 'MODEL_DESERIALIZE_FAILED', desc: (e as Error).message, node: -1, nodeName: '', nodeOperator: '' });
    }
    return this.import(model);
  }

  /** Parses an ONNX file; external data resolves against its folder. */
  async parseFromFile(path: string): Promise<boolean> {
    let model: OnnxModel;
    try {
      model = await openOnnxModel(path);
    } catch (e) {
      return this.fail({ code: 'MODEL_DESERIALIZE_FAILED', desc: (e as Error).message, node: -1, nodeName: '', nodeOperator: '' });
    }
    return this.import(model);
  }

  private async import(model: OnnxModel): Promise<boolean> {
    const { errors } = await importOnnxModel(model, this.network, { onWarning: (m) => this.logger.log(Severity.WARNING, m) });
    for (const e of errors) this.fail(e);
    return errors.length === 0;
  }

  /** Number of errors recorded since creation or the last {@link clearErrors}; they accumulate across calls. */
  getNbErrors(): number {
    return this.errors.length;
  }
  /** The error at `index` (0 to `getNbErrors() - 1`), or undefined past the last. */
  getError(index: number): ParserError | undefined {
    return this.errors[index];
  }
  /** Forgets the recorded errors. */
  clearErrors(): void {
    this.errors.length = 0;
  }
  private fail(e: ParserError): false {
    this.errors.push(e);
    this.logger.log(Severity.ERROR, e.desc);
    return false;
  }
}
