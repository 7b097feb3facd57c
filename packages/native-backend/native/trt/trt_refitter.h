// IRefitter, nvonnxparser::IParser and nvonnxparser::IParserRefitter wraps.
#pragma once

#include "trt/trt_object.h"

namespace trt_refit {

class Refitter : public TrtWrap<Refitter, nvinfer1::IRefitter> {
 public:
  static constexpr char const* kName = "Refitter";
  static void Init(Napi::Env env, AddonData& data);
  explicit Refitter(Napi::CallbackInfo const& info) : TrtWrap(info) {}

  void SetEngine(std::shared_ptr<TrtHandle<nvinfer1::ICudaEngine>> engine) { engine_ = std::move(engine); }
  // Parser refitters own the converted weights they set on this refitter, so they live as long as it does.
  void AttachParserRefitter(std::shared_ptr<void> p) { parserRefitters_.push_back(std::move(p)); }
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info) { return TrtWrap::GetDisposed(info); }

 private:
  Napi::Value SetNamedWeights(Napi::CallbackInfo const& info);
  Napi::Value NamedWeights(Napi::CallbackInfo const& info);
  Napi::Value CopyNamedWeights(Napi::CallbackInfo const& info);
  Napi::Value GetWeightsLocation(Napi::CallbackInfo const& info);
  Napi::Value UnsetNamedWeights(Napi::CallbackInfo const& info);
  Napi::Value GetMissingWeights(Napi::CallbackInfo const& info);
  Napi::Value GetAllWeights(Napi::CallbackInfo const& info);
  Napi::Value GetWeightsPrototype(Napi::CallbackInfo const& info);
  Napi::Value RefitCudaEngine(Napi::CallbackInfo const& info);
  Napi::Value RefitCudaEngineAsync(Napi::CallbackInfo const& info);
  Napi::Value SetMaxThreads(Napi::CallbackInfo const& info);
  Napi::Value GetMaxThreads(Napi::CallbackInfo const& info);
  Napi::Value SetWeightsValidation(Napi::CallbackInfo const& info);
  Napi::Value GetWeightsValidation(Napi::CallbackInfo const& info);
  Napi::Value SetErrorRecorder(Napi::CallbackInfo const& info);
  Napi::Value SetWeights(Napi::CallbackInfo const& info);
  Napi::Value GetMissing(Napi::CallbackInfo const& info);
  Napi::Value GetAll(Napi::CallbackInfo const& info);
  Napi::Value Refit(Napi::CallbackInfo const& info, cudaStream_t stream, bool async);

  std::shared_ptr<TrtHandle<nvinfer1::ICudaEngine>> engine_;
  std::vector<std::shared_ptr<void>> parserRefitters_;
};

}  // namespace trt_refit

// The classes split out of this header, so that its includers still see them.
#include "trt/trt_onnx_parser.h"
#include "trt/trt_parser_refitter.h"
