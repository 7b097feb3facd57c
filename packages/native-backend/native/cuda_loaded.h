// The loaded CUDA runtime for a call from JS, or the coded UNAVAILABLE error (one definition for the wrappers).
#pragma once

#include <napi.h>

#include "common.h"
#include "cuda_api.h"

namespace trt_refit {

inline CudaApi& LoadedCuda(Napi::Env env) {
  CudaApi& cuda = CudaApi::Get();
  if (!cuda.loaded()) throw CodedError(env, kCodeUnavailable, "the CUDA runtime is not loaded");
  return cuda;
}

}  // namespace trt_refit
