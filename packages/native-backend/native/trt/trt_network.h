// Network: split from trt_builder.h (one wrapped class per .h/.cc pair).
#pragma once

#include "trt/trt_object.h"

#include "trt/trt_builder.h"

namespace trt_refit {

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
