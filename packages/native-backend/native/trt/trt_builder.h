// IBuilder, IBuilderConfig and INetworkDefinition wraps.
#pragma once

#include "trt/trt_object.h"

namespace trt_refit {

class Builder : public TrtWrap<Builder, nvinfer1::IBuilder> {
 public:
  static constexpr char const* kName = "Builder";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

 private:
  Napi::Value CreateNetwork(Napi::CallbackInfo const& info);
  Napi::Value CreateBuilderConfig(Napi::CallbackInfo const& info);
  Napi::Value BuildSerializedNetwork(Napi::CallbackInfo const& info);
  Napi::Value SetErrorRecorder(Napi::CallbackInfo const& info);
  Napi::Value SetMaxThreads(Napi::CallbackInfo const& info);
};

}  // namespace trt_refit

// The classes split out of this header, so that its includers still see them.
#include "trt/trt_builder_config.h"
#include "trt/trt_network.h"
