// IRuntime, ICudaEngine, ISerializationConfig and IExecutionContext wraps.
#pragma once

#include "trt/trt_object.h"

namespace trt_refit {

class Runtime : public TrtWrap<Runtime, nvinfer1::IRuntime> {
 public:
  static constexpr char const* kName = "Runtime";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

 private:
  Napi::Value DeserializeCudaEngine(Napi::CallbackInfo const& info);
  Napi::Value LoadRuntime(Napi::CallbackInfo const& info);
  Napi::Value SetEngineHostCodeAllowed(Napi::CallbackInfo const& info);
  Napi::Value GetEngineHostCodeAllowed(Napi::CallbackInfo const& info);
  Napi::Value SetErrorRecorder(Napi::CallbackInfo const& info);
  Napi::Value SetMaxThreads(Napi::CallbackInfo const& info);
};

}  // namespace trt_refit

// The classes split out of this header, so that its includers still see them.
#include "trt/trt_engine.h"
#include "trt/trt_serialization_config.h"
#include "trt/trt_execution_context.h"
