// ParserRefitter: split from trt_refitter.h (one wrapped class per .h/.cc pair).
#pragma once

#include "trt/trt_object.h"

#include "trt/trt_refitter.h"

namespace trt_refit {

class ParserRefitter : public TrtWrap<ParserRefitter, nvonnxparser::IParserRefitter> {
 public:
  static constexpr char const* kName = "ParserRefitter";
  static void Init(Napi::Env env, AddonData& data);
  explicit ParserRefitter(Napi::CallbackInfo const& info) : TrtWrap(info) {}
  void SetRefitter(std::shared_ptr<TrtHandle<nvinfer1::IRefitter>> r) { refitter_ = std::move(r); }

 private:
  Napi::Value RefitFromFile(Napi::CallbackInfo const& info);
  Napi::Value RefitFromBytes(Napi::CallbackInfo const& info);
  Napi::Value LoadModelProto(Napi::CallbackInfo const& info);
  Napi::Value LoadInitializer(Napi::CallbackInfo const& info);
  Napi::Value RefitModelProto(Napi::CallbackInfo const& info);
  Napi::Value GetNbErrors(Napi::CallbackInfo const& info);
  Napi::Value GetError(Napi::CallbackInfo const& info);
  Napi::Value ClearErrors(Napi::CallbackInfo const& info);
  Napi::Value Run(Napi::CallbackInfo const& info, char const* name, std::function<bool(nvonnxparser::IParserRefitter&)> call,
                  std::vector<Napi::Value> keep);

  std::shared_ptr<TrtHandle<nvinfer1::IRefitter>> refitter_;
  // loadInitializer data must outlive the parser refitter (TensorRT keeps the pointer).
  std::vector<Napi::ObjectReference> initializers_;
};

}  // namespace trt_refit
