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

// A device ordinal argument (optional): the calling thread's current device when `v` is undefined, a RangeError
// naming `parameter` when no such device exists.
inline int DeviceArg(Napi::Env env, Napi::Value v, char const* parameter) {
  CudaApi& cuda = LoadedCuda(env);
  int device = 0;
  if (v.IsUndefined()) {
    Guarded(env, [&] { CheckCuda(cuda.cudaGetDevice(&device), "cudaGetDevice"); });
    return device;
  }
  size_t const d = SizeArg(env, v, parameter);
  int count = 0;
  Guarded(env, [&] { CheckCuda(cuda.cudaGetDeviceCount(&count), "cudaGetDeviceCount"); });
  TRT_REFIT_RANGE_CHECK(d < static_cast<size_t>(count), env, parameter, " must be the ordinal of a CUDA device (",
                        count, count == 1 ? " device" : " devices", " here), received ", d);
  return static_cast<int>(d);
}

}  // namespace trt_refit
