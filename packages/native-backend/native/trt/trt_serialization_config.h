// SerializationConfig: split from trt_runtime.h (one wrapped class per .h/.cc pair).
#pragma once

#include "trt/trt_object.h"

#include "trt/trt_runtime.h"

namespace trt_refit {

class SerializationConfig : public TrtWrap<SerializationConfig, nvinfer1::ISerializationConfig> {
 public:
  static constexpr char const* kName = "SerializationConfig";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

 private:
  Napi::Value SetFlags(Napi::CallbackInfo const& info);
  Napi::Value GetFlags(Napi::CallbackInfo const& info);
  Napi::Value SetFlag(Napi::CallbackInfo const& info);
  Napi::Value ClearFlag(Napi::CallbackInfo const& info);
  Napi::Value GetFlag(Napi::CallbackInfo const& info);
};

}  // namespace trt_refit
