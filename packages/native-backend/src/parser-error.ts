import type { ParserError } from '@trt-refit/core';
import type { NativeParserError } from './binding.js';
import { parserErrorCodeName } from './native-enums.js';

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
