// The argument checks live in core (one copy for every backend); re-exported for the adapter's modules.
export {
  describe,
  typeError,
  rangeError,
  expectString,
  expectBoolean,
  expectSize,
  expectInteger,
  expectView,
  expectBytes,
  expectOptionalString,
  expectBuilderFlag,
  expectSerializationFlag,
  expectIterable,
} from '@trt-refit/core';
