#include "trt/trt_onnx_parser.h"
#include "trt/trt_refitter.h"

#include <cstring>

#include "cuda_api.h"
#include "cuda_stream.h"
#include "device_buffer.h"
#include "trt/trt_logger.h"
#include "trt/trt_parser_error.h"

namespace trt_refit {

using nvinfer1::IRefitter;
using nvinfer1::Weights;


// ------------------------------------------------------------------------------------------------- OnnxParser

void OnnxParser::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&OnnxParser::Parse>("parse"),
                                       InstanceMethod<&OnnxParser::ParseFromFile>("parseFromFile"),
                                       InstanceMethod<&OnnxParser::GetNbErrors>("getNbErrors"),
                                       InstanceMethod<&OnnxParser::GetError>("getError"),
                                       InstanceMethod<&OnnxParser::ClearErrors>("clearErrors"),
                                   })));
}

// parse(bytes, modelPath | null): Promise<boolean>; modelPath locates external data.
Napi::Value OnnxParser::Parse(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Live(env);
  ByteView bytes = BytesOf(env, info[0], "bytes");
  bool hasPath = info.Length() > 1 && info[1].IsString();
  std::string path = hasPath ? info[1].As<Napi::String>().Utf8Value() : std::string();
  auto parser = handle_;
  auto network = network_;
  auto result = std::make_shared<bool>(false);
  auto* w = new PromiseWorker(
      env, "trt-refit:parse",
      [parser, bytes, hasPath, path, result] {
        *result = parser->get()->parse(bytes.data, bytes.length, hasPath ? path.c_str() : nullptr);
      },
      [result](Napi::Env e) -> Napi::Value { return Napi::Boolean::New(e, *result); }, {info[0]},
      {&parser->busy, &network->busy}, {parser, network});
  return PromiseWorker::Run(w);
}

// parseFromFile(path, verbosity): Promise<boolean>.
Napi::Value OnnxParser::ParseFromFile(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Live(env);
  std::string path = StringArg(env, info[0], "path");
  int32_t verbosity = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : static_cast<int32_t>(nvinfer1::ILogger::Severity::kWARNING);
  auto parser = handle_;
  auto network = network_;
  auto result = std::make_shared<bool>(false);
  auto* w = new PromiseWorker(
      env, "trt-refit:parseFromFile",
      [parser, path, verbosity, result] { *result = parser->get()->parseFromFile(path.c_str(), verbosity); },
      [result](Napi::Env e) -> Napi::Value { return Napi::Boolean::New(e, *result); }, {},
      {&parser->busy, &network->busy}, {parser, network});
  return PromiseWorker::Run(w);
}

Napi::Value OnnxParser::GetNbErrors(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), Live(info.Env()).getNbErrors());
}

Napi::Value OnnxParser::GetError(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  auto& p = Live(env);
  int32_t i = static_cast<int32_t>(SizeArg(env, info[0], "index"));
  if (i >= p.getNbErrors()) return env.Undefined();
  return ParserErrorToJs(env, p.getError(i));
}

Napi::Value OnnxParser::ClearErrors(Napi::CallbackInfo const& info) {
  Live(info.Env()).clearErrors();
  return info.Env().Undefined();
}

}  // namespace trt_refit
