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
