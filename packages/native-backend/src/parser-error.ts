import { Severity, type ParserError } from '@trt-refit/core';
import type { NativeDisposable, NativeParserError } from './binding.js';
import { parserErrorCodeName } from './native-enums.js';
import { NativeResource } from './native-resource.js';
import { expectSize } from './validate.js';

/** Core's ParserError from TensorRT's `IParserError`; the source location goes into `desc` for bug reports. */
export function toParserError(e: NativeParserError | undefined): ParserError | undefined {
  if (!e) return undefined;
  return {
    code: parserErrorCodeName(e.code),
    desc: e.desc,
    node: e.node,
    nodeName: e.nodeName,
    nodeOperator: e.nodeOperator,
  };
}

/** A native object that keeps TensorRT's parser errors (`IParser`, `IParserRefitter`). */
interface NativeErrorList extends NativeDisposable {
  getNbErrors(): number;
  getError(index: number): NativeParserError | undefined;
  clearErrors(): void;
}

/**
 * The error list TensorRT's ONNX parser and parser refitter share: `getNbErrors`, `getError(i)` (converted to
 * core's ParserError; undefined past the last) and `clearErrors`, forwarded to TensorRT.
 */
export abstract class NativeParserBase<N extends NativeErrorList> extends NativeResource<N> {
  /** Refusals trt-refit decides before TensorRT is called (listed after TensorRT's own). */
  readonly #own: ParserError[] = [];

  /** How many errors TensorRT (and trt-refit's own checks) recorded since the last `clearErrors`. */
  getNbErrors(): number {
    return this.call((n) => n.getNbErrors()) + this.#own.length;
  }

  /** Error `index`: TensorRT's, converted to core's ParserError, then trt-refit's own; undefined past the last. */
  getError(index: number): ParserError | undefined {
    const i = expectSize(index, 'index');
    const native = this.call((n) => n.getNbErrors());
    return i < native ? this.call((n) => toParserError(n.getError(i))) : this.#own[i - native];
  }

  /** Forgets the recorded errors. */
  clearErrors(): void {
    this.call((n) => n.clearErrors());
    this.#own.length = 0;
  }

  /** Records a refusal trt-refit made itself (logged at ERROR, listed by getError) and returns false. */
  protected fail(desc: string, code = 'REFIT_FAILED'): false {
    this.#own.push({ code, desc, node: -1, nodeName: '', nodeOperator: '' });
    this.log.logger.log(Severity.ERROR, desc);
    return false;
  }
}
