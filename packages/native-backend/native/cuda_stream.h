// CudaStream and CudaEvent: thin wraps over cudaStream_t / cudaEvent_t with explicit, idempotent dispose.
#pragma once

#include <napi.h>

#include "addon_data.h"
#include "cuda_api.h"

namespace trt_refit {

class CudaStream : public Napi::ObjectWrap<CudaStream> {
 public:
  static void Init(Napi::Env env, AddonData& data);
  // The wrapped stream behind `v`; throws TypeError when `v` is not a CudaStream, and the coded DISPOSED error
  // when it was disposed.
  static CudaStream& From(Napi::Env env, Napi::Value v, char const* parameter);

  explicit CudaStream(Napi::CallbackInfo const& info);
  ~CudaStream() override;

  cudaStream_t handle() const { return stream_; }
  int device() const { return device_; }

 private:
  Napi::Value Synchronize(Napi::CallbackInfo const& info);
  Napi::Value Query(Napi::CallbackInfo const& info);
  Napi::Value WaitEvent(Napi::CallbackInfo const& info);
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info);
  Napi::Value GetDeviceId(Napi::CallbackInfo const& info);
  Napi::Value GetHandle(Napi::CallbackInfo const& info);
  void Release() noexcept;

  cudaStream_t stream_ = nullptr;
  int device_ = 0;
  bool disposed_ = false;
};

}  // namespace trt_refit

// The classes split out of this header, so that its includers still see them.
#include "cuda_event.h"
