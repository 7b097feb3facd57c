#include "trt/trt_module.h"

#include "common.h"
#include "device_buffer.h"
#include "trt/trt_builder.h"
#include "trt/trt_library.h"
#include "trt/trt_logger.h"
#include "trt/trt_refitter.h"
#include "trt/trt_runtime.h"

namespace trt_refit {

std::string TensorRtHeaderVersion() { return TensorRtHeaderVersionText(); }

namespace {

Napi::Array ToJs(Napi::Env env, std::vector<std::string> const& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), v[i]);
  return a;
}

TensorRtLibrary& Library(Napi::Env env) {
  TensorRtLibrary* lib = TensorRtLibrary::Loaded();
  if (!lib) throw CodedError(env, kCodeUnavailable, "TensorRT is not loaded: call tensorrt.load() first");
  return *lib;
}

// load(libDir | null): opens libnvinfer / libnvonnxparser of the header's major. Never throws; the result lists
// every problem.
Napi::Value Load(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  std::string libDir = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  TensorRtLibrary& lib = TensorRtLibrary::Load(libDir);
  Napi::Object out = Napi::Object::New(env);
  std::vector<std::string> errors = lib.errors();
  if (lib.ok() && libDir != lib.libDir()) {
    errors.push_back(Concat("TensorRT was already loaded from ", lib.nvinferPath(), "; a process can load only one (requested folder: \"", libDir, "\")"));
  }
  out.Set("ok", lib.ok() && errors.empty());
  out.Set("headerVersion", TensorRtHeaderVersionText());
  out.Set("errors", ToJs(env, errors));
  out.Set("parserErrors", ToJs(env, lib.parserErrors()));
  if (!lib.nvinferPath().empty()) out.Set("nvinfer", lib.nvinferPath());
  if (!lib.parserPath().empty()) out.Set("nvonnxparser", lib.parserPath());
  out.Set("parserAvailable", lib.ok() && lib.parserOk());
  if (lib.version().major) {
    auto v = lib.version();
    out.Set("version", Concat(v.major, ".", v.minor, ".", v.patch, v.build ? Concat(".", v.build) : std::string()));
  }
  if (lib.parserVersion()) out.Set("parserVersion", lib.parserVersion());
  return out;
}

Napi::Value CreateBuilder(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TensorRtLibrary& lib = Library(env);
  LogSink& sink = LogSink::From(env, info[0], "logSink");
  auto* b = static_cast<nvinfer1::IBuilder*>(lib.createBuilder(sink.logger(), NV_TENSORRT_VERSION));
  if (!b) throw CodedError(env, kCodeUnavailable, "createInferBuilder failed (see the logged errors; is a CUDA device available?)");
  return Builder::Create(env, MakeHandle(b, {}));
}

Napi::Value CreateRuntime(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TensorRtLibrary& lib = Library(env);
  LogSink& sink = LogSink::From(env, info[0], "logSink");
  auto* r = static_cast<nvinfer1::IRuntime*>(lib.createRuntime(sink.logger(), NV_TENSORRT_VERSION));
  if (!r) throw CodedError(env, kCodeUnavailable, "createInferRuntime failed (see the logged errors; is a CUDA device available?)");
  return Runtime::Create(env, MakeHandle(r, {}));
}

Napi::Value CreateRefitter(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TensorRtLibrary& lib = Library(env);
  Engine& engine = Engine::From(env, info[0], "engine");
  LogSink& sink = LogSink::From(env, info[1], "logSink");
  nvinfer1::ICudaEngine& e = engine.Live(env);
  if (!e.isRefittable()) {
    throw CodedError(env, kCodeNotRefittable, "the engine is not refittable: build it with REFIT, REFIT_IDENTICAL or REFIT_INDIVIDUAL");
  }
  auto* r = static_cast<nvinfer1::IRefitter*>(lib.createRefitter(&e, sink.logger(), NV_TENSORRT_VERSION));
  if (!r) throw CodedError(env, kCodeNotRefittable, "createInferRefitter failed (see the logged errors)");
  Napi::Object wrap = Refitter::Create(env, MakeHandle(r, {engine.handle()}));
  Refitter::Unwrap(wrap)->SetEngine(engine.handle());
  return wrap;
}

Napi::Value CreateOnnxParser(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TensorRtLibrary& lib = Library(env);
  Network& network = Network::From(env, info[0], "network");
  LogSink& sink = LogSink::From(env, info[1], "logSink");
  if (!lib.parserOk()) throw CodedError(env, kCodeUnavailable, "libnvonnxparser is not loaded; ONNX parsing is unavailable");
  auto* p = static_cast<nvonnxparser::IParser*>(lib.createParser(&network.Live(env), sink.logger(), NV_ONNX_PARSER_VERSION));
  if (!p) throw CodedError(env, kCodeUnavailable, "createNvOnnxParser failed (see the logged errors)");
  auto handle = MakeHandle(p, {network.handle()});
  network.AttachParser(handle);
  Napi::Object wrap = OnnxParser::Create(env, handle);
  OnnxParser::Unwrap(wrap)->SetNetwork(network.handle());
  return wrap;
}

Napi::Value CreateParserRefitter(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TensorRtLibrary& lib = Library(env);
  Refitter& refitter = Refitter::From(env, info[0], "refitter");
  LogSink& sink = LogSink::From(env, info[1], "logSink");
  if (!lib.parserOk()) throw CodedError(env, kCodeUnavailable, "libnvonnxparser is not loaded; the ONNX parser refitter is unavailable");
  auto* p = static_cast<nvonnxparser::IParserRefitter*>(
      lib.createParserRefitter(&refitter.Live(env), sink.logger(), NV_ONNX_PARSER_VERSION));
  if (!p) throw CodedError(env, kCodeUnavailable, "createNvOnnxParserRefitter failed (see the logged errors)");
  auto handle = MakeHandle(p, {refitter.handle()});
  refitter.AttachParserRefitter(handle);
  Napi::Object wrap = ParserRefitter::Create(env, handle);
  ParserRefitter::Unwrap(wrap)->SetRefitter(refitter.handle());
  return wrap;
}

// addressOf(values): the address TensorRT would receive for host or device weights values (0n for null), so the
// TS side can tell whether weights it holds are still the ones TensorRT uses.
Napi::Value AddressOf(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Napi::Value v = info[0];
  if (v.IsNull() || v.IsUndefined()) return BigIntPointer(env, nullptr);
  if (DeviceBuffer::Is(env, v)) return BigIntPointer(env, DeviceBuffer::From(env, v, "values").data());
  return BigIntPointer(env, BytesOf(env, v, "values").data);
}

}  // namespace

Napi::Object CreateTensorRtModule(Napi::Env env, AddonData& data) {
  LogSink::Init(env, data);
  ErrorRecorderBridge::Init(env, data);
  Builder::Init(env, data);
  BuilderConfig::Init(env, data);
  Network::Init(env, data);
  Runtime::Init(env, data);
  Engine::Init(env, data);
  SerializationConfig::Init(env, data);
  ExecutionContext::Init(env, data);
  Refitter::Init(env, data);
  OnnxParser::Init(env, data);
  ParserRefitter::Init(env, data);
  Napi::Object m = Napi::Object::New(env);
  m.Set("headerVersion", TensorRtHeaderVersionText());
  m.Set("load", Napi::Function::New<Load>(env, "load"));
  m.Set("createBuilder", Napi::Function::New<CreateBuilder>(env, "createBuilder"));
  m.Set("createRuntime", Napi::Function::New<CreateRuntime>(env, "createRuntime"));
  m.Set("createRefitter", Napi::Function::New<CreateRefitter>(env, "createRefitter"));
  m.Set("createOnnxParser", Napi::Function::New<CreateOnnxParser>(env, "createOnnxParser"));
  m.Set("createParserRefitter", Napi::Function::New<CreateParserRefitter>(env, "createParserRefitter"));
  m.Set("addressOf", Napi::Function::New<AddressOf>(env, "addressOf"));
  m.Set("LogSink", data.Constructor(env, "LogSink"));
  m.Set("ErrorRecorderBridge", data.Constructor(env, "ErrorRecorderBridge"));
  return m;
}

}  // namespace trt_refit
