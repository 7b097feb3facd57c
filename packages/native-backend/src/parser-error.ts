import type { ParserError } from '@trt-refit/core';
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
  /** How many errors TensorRT recorded since the last `clearErrors`. */
  getNbErrors(): number {
    return this.call((n) => n.getNbErrors());
  }

  /** TensorRT's error `index`, converted to core's ParserError; undefined past the last. */
  getError(index: number): ParserError | undefined {
    const i = expectSize(index, 'index');
    return this.call((n) => toParserError(n.getError(i)));
  }

  /** Forgets the recorded errors. */
  clearErrors(): void {
    this.call((n) => n.clearErrors());
  }
}
