// Engine: split from trt_runtime.h (one wrapped class per .h/.cc pair).
#pragma once

#include "trt/trt_object.h"

#include "trt/trt_runtime.h"

namespace trt_refit {

class Engine : public TrtWrap<Engine, nvinfer1::ICudaEngine> {
 public:
  static constexpr char const* kName = "Engine";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

  // Tells V8's GC the engine holds about `bytes` of native memory (its plan's size), so that unreferenced engines
  // are collected under memory pressure; given back on dispose() or finalization.
  void ReportExternalMemory(Napi::Env env, int64_t bytes);
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info) { return TrtWrap::GetDisposed(info); }
  void Finalize(Napi::Env env) override;

 private:
  Napi::Value IsRefittable(Napi::CallbackInfo const& info);
  Napi::Value CreateSerializationConfig(Napi::CallbackInfo const& info);
  Napi::Value Serialize(Napi::CallbackInfo const& info);
  Napi::Value SerializeWithConfig(Napi::CallbackInfo const& info);
  Napi::Value GetEngineStat(Napi::CallbackInfo const& info);
  Napi::Value GetEngineInformation(Napi::CallbackInfo const& info);
  Napi::Value GetNbLayers(Napi::CallbackInfo const& info);
  Napi::Value GetIOTensors(Napi::CallbackInfo const& info);
  Napi::Value CreateExecutionContext(Napi::CallbackInfo const& info);
  Napi::Value SetErrorRecorder(Napi::CallbackInfo const& info);

  int64_t externalBytes_ = 0;
};

}  // namespace trt_refit
