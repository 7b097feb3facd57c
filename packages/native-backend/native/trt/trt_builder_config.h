// BuilderConfig: split from trt_builder.h (one wrapped class per .h/.cc pair).
#pragma once

#include "trt/trt_object.h"

#include "trt/trt_builder.h"

namespace trt_refit {

class BuilderConfig : public TrtWrap<BuilderConfig, nvinfer1::IBuilderConfig> {
 public:
  static constexpr char const* kName = "BuilderConfig";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

 private:
  Napi::Value SetFlags(Napi::CallbackInfo const& info);
  Napi::Value GetFlags(Napi::CallbackInfo const& info);
  Napi::Value SetProfilingVerbosity(Napi::CallbackInfo const& info);
  Napi::Value GetProfilingVerbosity(Napi::CallbackInfo const& info);
  Napi::Value SetMemoryPoolLimit(Napi::CallbackInfo const& info);
  Napi::Value AddOptimizationProfile(Napi::CallbackInfo const& info);
  Napi::Value GetNbOptimizationProfiles(Napi::CallbackInfo const& info);
};

}  // namespace trt_refit
