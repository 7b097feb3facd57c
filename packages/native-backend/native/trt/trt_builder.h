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

class Network : public TrtWrap<Network, nvinfer1::INetworkDefinition> {
 public:
  static constexpr char const* kName = "Network";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

  // A parser filling this network owns the weights the network points to, so it lives as long as the network
  // (and through a build); it is released before the network, which it references.
  void AttachParser(std::shared_ptr<void> parser) { parsers_.push_back(std::move(parser)); }
  std::vector<std::shared_ptr<void>> const& parsers() const { return parsers_; }

  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info) { return TrtWrap::GetDisposed(info); }

 private:
  Napi::Value GetNbLayers(Napi::CallbackInfo const& info);
  Napi::Value GetInputs(Napi::CallbackInfo const& info);
  Napi::Value GetOutputs(Napi::CallbackInfo const& info);
  Napi::Value MarkWeightsRefittable(Napi::CallbackInfo const& info);
  Napi::Value UnmarkWeightsRefittable(Napi::CallbackInfo const& info);
  Napi::Value AreWeightsMarkedRefittable(Napi::CallbackInfo const& info);

  std::vector<std::shared_ptr<void>> parsers_;
};

}  // namespace trt_refit
