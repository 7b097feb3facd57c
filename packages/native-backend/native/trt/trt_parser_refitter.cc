#include "trt/trt_parser_refitter.h"
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


// --------------------------------------------------------------------------------------------- ParserRefitter

void ParserRefitter::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&ParserRefitter::RefitFromFile>("refitFromFile"),
                                       InstanceMethod<&ParserRefitter::RefitFromBytes>("refitFromBytes"),
                                       InstanceMethod<&ParserRefitter::LoadModelProto>("loadModelProto"),
                                       InstanceMethod<&ParserRefitter::LoadInitializer>("loadInitializer"),
                                       InstanceMethod<&ParserRefitter::RefitModelProto>("refitModelProto"),
                                       InstanceMethod<&ParserRefitter::GetNbErrors>("getNbErrors"),
                                       InstanceMethod<&ParserRefitter::GetError>("getError"),
                                       InstanceMethod<&ParserRefitter::ClearErrors>("clearErrors"),
                                   })));
}

Napi::Value ParserRefitter::Run(Napi::CallbackInfo const& info, char const* name,
                                std::function<bool(nvonnxparser::IParserRefitter&)> call, std::vector<Napi::Value> keep) {
  Napi::Env env = info.Env();
  Live(env);
  if (!refitter_ || refitter_->busy.load() > 0) {
    throw CodedError(env, kCodeInvalidState, "the refitter is busy with an asynchronous call; await it first");
  }
  auto self = handle_;
  auto refitter = refitter_;
  auto result = std::make_shared<bool>(false);
  auto* w = new PromiseWorker(
      env, name, [self, call = std::move(call), result] { *result = call(*self->get()); },
      [result](Napi::Env e) -> Napi::Value { return Napi::Boolean::New(e, *result); }, std::move(keep),
      {&self->busy, &refitter->busy}, {self, refitter});
  return PromiseWorker::Run(w);
}

Napi::Value ParserRefitter::RefitFromFile(Napi::CallbackInfo const& info) {
  std::string path = StringArg(info.Env(), info[0], "path");
  return Run(info, "trt-refit:refitFromFile", [path](nvonnxparser::IParserRefitter& p) { return p.refitFromFile(path.c_str()); }, {});
}

Napi::Value ParserRefitter::RefitFromBytes(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ByteView bytes = BytesOf(env, info[0], "bytes");
  bool hasPath = info.Length() > 1 && info[1].IsString();
  std::string path = hasPath ? info[1].As<Napi::String>().Utf8Value() : std::string();
  return Run(info, "trt-refit:refitFromBytes",
             [bytes, hasPath, path](nvonnxparser::IParserRefitter& p) {
               return p.refitFromBytes(bytes.data, bytes.length, hasPath ? path.c_str() : nullptr);
             },
             {info[0]});
}

Napi::Value ParserRefitter::LoadModelProto(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
#if NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 13)
  ByteView bytes = BytesOf(env, info[0], "bytes");
  bool hasPath = info.Length() > 1 && info[1].IsString();
  std::string path = hasPath ? info[1].As<Napi::String>().Utf8Value() : std::string();
  return Run(info, "trt-refit:loadModelProto",
             [bytes, hasPath, path](nvonnxparser::IParserRefitter& p) {
               return p.loadModelProto(bytes.data, bytes.length, hasPath ? path.c_str() : nullptr);
             },
             {info[0]});
#else
  throw CodedError(env, kCodeUnsupported, "loadModelProto needs TensorRT 10.13 headers; the addon was built against older ones");
#endif
}

// loadInitializer(name, data): synchronous; `data` is referenced until the parser refitter is disposed.
Napi::Value ParserRefitter::LoadInitializer(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
#if NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 13)
  auto& p = Live(env);
  if (refitter_ && refitter_->busy.load() > 0) throw CodedError(env, kCodeInvalidState, "the refitter is busy with an asynchronous call");
  std::string name = NameArg(env, info[0], "name");
  ByteView data = BytesOf(env, info[1], "data");
  bool ok = p.loadInitializer(name.c_str(), data.data, data.length);
  if (ok) initializers_.push_back(Napi::Persistent(info[1].As<Napi::Object>()));
  return Napi::Boolean::New(env, ok);
#else
  throw CodedError(env, kCodeUnsupported, "loadInitializer needs TensorRT 10.13 headers; the addon was built against older ones");
#endif
}

Napi::Value ParserRefitter::RefitModelProto(Napi::CallbackInfo const& info) {
#if NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 13)
  return Run(info, "trt-refit:refitModelProto", [](nvonnxparser::IParserRefitter& p) { return p.refitModelProto(); }, {});
#else
  throw CodedError(info.Env(), kCodeUnsupported, "refitModelProto needs TensorRT 10.13 headers; the addon was built against older ones");
#endif
}

Napi::Value ParserRefitter::GetNbErrors(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), Live(info.Env()).getNbErrors());
}

Napi::Value ParserRefitter::GetError(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  auto& p = Live(env);
  int32_t i = static_cast<int32_t>(SizeArg(env, info[0], "index"));
  if (i >= p.getNbErrors()) return env.Undefined();
  return ParserErrorToJs(env, p.getError(i));
}

Napi::Value ParserRefitter::ClearErrors(Napi::CallbackInfo const& info) {
  Live(info.Env()).clearErrors();
  return info.Env().Undefined();
}

}  // namespace trt_refit
