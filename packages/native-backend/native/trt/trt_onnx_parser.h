// OnnxParser: split from trt_refitter.h (one wrapped class per .h/.cc pair).
#pragma once

#include "trt/trt_object.h"

#include "trt/trt_refitter.h"

namespace trt_refit {

class OnnxParser : public TrtWrap<OnnxParser, nvonnxparser::IParser> {
 public:
  static constexpr char const* kName = "OnnxParser";
  static void Init(Napi::Env env, AddonData& data);
  explicit OnnxParser(Napi::CallbackInfo const& info) : TrtWrap(info) {}
  void SetNetwork(std::shared_ptr<TrtHandle<nvinfer1::INetworkDefinition>> n) { network_ = std::move(n); }

 private:
  Napi::Value Parse(Napi::CallbackInfo const& info);
  Napi::Value ParseFromFile(Napi::CallbackInfo const& info);
  Napi::Value GetNbErrors(Napi::CallbackInfo const& info);
  Napi::Value GetError(Napi::CallbackInfo const& info);
  Napi::Value ClearErrors(Napi::CallbackInfo const& info);

  std::shared_ptr<TrtHandle<nvinfer1::INetworkDefinition>> network_;
};

}  // namespace trt_refit
