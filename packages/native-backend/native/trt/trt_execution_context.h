// ExecutionContext: split from trt_runtime.h (one wrapped class per .h/.cc pair).
#pragma once

#include "trt/trt_object.h"

#include "trt/trt_runtime.h"

namespace trt_refit {

class ExecutionContext : public TrtWrap<ExecutionContext, nvinfer1::IExecutionContext> {
 public:
  static constexpr char const* kName = "ExecutionContext";
  static void Init(Napi::Env env, AddonData& data);
  explicit ExecutionContext(Napi::CallbackInfo const& info) : TrtWrap(info) {}
  ~ExecutionContext() override;

  void SetEngine(std::shared_ptr<TrtHandle<nvinfer1::ICudaEngine>> engine) { engine_ = std::move(engine); }
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info) { return TrtWrap::GetDisposed(info); }

 private:
  Napi::Value Execute(Napi::CallbackInfo const& info);
  // Device memory for `total` bytes of I/O on the current device (reused while large enough).
  void EnsureArena(size_t total);
  void ReleaseDeviceMemory() noexcept;

  std::shared_ptr<TrtHandle<nvinfer1::ICudaEngine>> engine_;
  cudaStream_t ownStream_ = nullptr;
  void* arena_ = nullptr;  // device memory for the I/O tensors, grown as needed
  size_t arenaSize_ = 0;
  int arenaDevice_ = 0;
  bool running_ = false;
  bool disposeWhenDone_ = false;
};

}  // namespace trt_refit
