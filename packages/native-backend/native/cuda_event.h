// CudaEvent: split from cuda_stream.h (one wrapped class per .h/.cc pair).
#pragma once

#include <napi.h>

#include "addon_data.h"
#include "cuda_api.h"

#include "cuda_stream.h"

namespace trt_refit {

class CudaEvent : public Napi::ObjectWrap<CudaEvent> {
 public:
  static void Init(Napi::Env env, AddonData& data);
  static CudaEvent& From(Napi::Env env, Napi::Value v, char const* parameter);

  explicit CudaEvent(Napi::CallbackInfo const& info);
  ~CudaEvent() override;

  cudaEvent_t handle() const { return event_; }

 private:
  Napi::Value Record(Napi::CallbackInfo const& info);
  Napi::Value Synchronize(Napi::CallbackInfo const& info);
  Napi::Value Query(Napi::CallbackInfo const& info);
  Napi::Value ElapsedTime(Napi::CallbackInfo const& info);
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info);
  void Release() noexcept;

  cudaEvent_t event_ = nullptr;
  bool timing_ = false;
  int device_ = 0;
  bool disposed_ = false;
  // A pending synchronize() still queries the event: destroying it is deferred until that completes.
  int waiting_ = 0;
};

}  // namespace trt_refit
