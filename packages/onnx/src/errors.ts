import { TrtRefitError, TrtRefitErrorCode } from '@trt-refit/core';

/** An ONNX or safetensors file that cannot be read: damaged protobuf, bad header, inconsistent tensor. */
export class OnnxModelError extends TrtRefitError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(TrtRefitErrorCode.INVALID_MODEL, message, details, options);
  }
}

/** External data that is refused or cannot be read; `details` names the tensor and the file. */
export class ExternalDataError extends TrtRefitError {
  constructor(message: string, readonly tensor: string, readonly file: string, options?: ErrorOptions) {
    super(TrtRefitErrorCode.EXTERNAL_DATA, message, { tensor, file }, options);
  }
}
