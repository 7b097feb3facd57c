#include "trt/trt_engine.h"
#include "trt/trt_runtime.h"

#include <cstring>
#include <set>

#include "completion_queue.h"
#include "cuda_api.h"
#include "cuda_stream.h"
#include "pinned_pool.h"
#include "trt/trt_logger.h"

namespace trt_refit {

using nvinfer1::ICudaEngine;
using nvinfer1::IExecutionContext;
using nvinfer1::IRuntime;
using nvinfer1::ISerializationConfig;

// ----------------------------------------------------------------------------------------------------- Engine

void Engine::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&Engine::IsRefittable>("isRefittable"),
                                       InstanceMethod<&Engine::CreateSerializationConfig>("createSerializationConfig"),
                                       InstanceMethod<&Engine::Serialize>("serialize"),
                                       InstanceMethod<&Engine::SerializeWithConfig>("serializeWithConfig"),
                                       InstanceMethod<&Engine::GetEngineStat>("getEngineStat"),
                                       InstanceMethod<&Engine::GetEngineInformation>("getEngineInformation"),
                                       InstanceMethod<&Engine::GetNbLayers>("getNbLayers"),
                                       InstanceMethod<&Engine::GetIOTensors>("getIOTensors"),
                                       InstanceMethod<&Engine::CreateExecutionContext>("createExecutionContext"),
                                       InstanceMethod<&Engine::SetErrorRecorder>("setErrorRecorder"),
                                   })));
}

void Engine::ReportExternalMemory(Napi::Env env, int64_t bytes) {
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes - externalBytes_);
  externalBytes_ = bytes;
}

Napi::Value Engine::Dispose(Napi::CallbackInfo const& info) {
  ReportExternalMemory(info.Env(), 0);
  return TrtWrap::Dispose(info);
}

void Engine::Finalize(Napi::Env env) {
  if (externalBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
  externalBytes_ = 0;
}

Napi::Value Engine::IsRefittable(Napi::CallbackInfo const& info) {
  return Napi::Boolean::New(info.Env(), Live(info.Env()).isRefittable());
}

Napi::Value Engine::CreateSerializationConfig(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ISerializationConfig* c = Live(env).createSerializationConfig();
  if (!c) throw CodedError(env, kCodeInvalidState, "ICudaEngine::createSerializationConfig returned null (see the logged errors)");
  return SerializationConfig::Create(env, MakeHandle(c, {handle_}));
}

Napi::Value Engine::Serialize(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  nvinfer1::IHostMemory* m = Live(env).serialize();
  if (!m) throw CodedError(env, kCodeInvalidState, "ICudaEngine::serialize returned null (see the logged errors)");
  return HostMemoryToJs(env, m);
}

Napi::Value Engine::SerializeWithConfig(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ICudaEngine& e = Live(env);
  SerializationConfig& config = SerializationConfig::From(env, info[0], "config");
  nvinfer1::IHostMemory* m = e.serializeWithConfig(*config.handle()->get());
  if (!m) throw CodedError(env, kCodeInvalidState, "ICudaEngine::serializeWithConfig returned null (see the logged errors)");
  return HostMemoryToJs(env, m);
}

// getEngineStat(stat): TensorRT 10.14+; the TS side refuses older versions before calling.
Napi::Value Engine::GetEngineStat(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ICudaEngine& e = Live(env);
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "stat must be a number");
#if NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 14)
  int32_t stat = info[0].As<Napi::Number>().Int32Value();
  TRT_REFIT_RANGE_CHECK(stat == 0 || stat == 1, env, "stat must be 0 (TOTAL_WEIGHTS_SIZE) or 1 (STRIPPED_WEIGHTS_SIZE), received ", stat);
  return Napi::Number::New(env, static_cast<double>(e.getEngineStat(static_cast<nvinfer1::EngineStat>(stat))));
#else
  (void)e;
  throw CodedError(env, kCodeUnsupported, "getEngineStat needs TensorRT 10.14 headers; the addon was built against older ones");
#endif
}

// getEngineInformation(): the engine inspector's JSON (layer details need ProfilingVerbosity kDETAILED at build,
// which createBuilderConfig sets).
Napi::Value Engine::GetEngineInformation(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ICudaEngine& e = Live(env);
  std::unique_ptr<nvinfer1::IEngineInspector> inspector(e.createEngineInspector());
  if (!inspector) throw CodedError(env, kCodeInvalidState, "ICudaEngine::createEngineInspector returned null");
  char const* text = inspector->getEngineInformation(nvinfer1::LayerInformationFormat::kJSON);
  return Napi::String::New(env, text ? text : "{}");
}

Napi::Value Engine::GetNbLayers(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), Live(info.Env()).getNbLayers());
}

Napi::Value Engine::GetIOTensors(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ICudaEngine& e = Live(env);
  int32_t n = e.getNbIOTensors();
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n > 0 ? n : 0));
  for (int32_t i = 0; i < n; ++i) {
    char const* name = e.getIOTensorName(i);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", name ? name : "");
    o.Set("mode", static_cast<int32_t>(e.getTensorIOMode(name)));
    o.Set("dtype", static_cast<int32_t>(e.getTensorDataType(name)));
    o.Set("dims", DimsToJs(env, e.getTensorShape(name)));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value Engine::CreateExecutionContext(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IExecutionContext* c = Live(env).createExecutionContext();
  if (!c) throw CodedError(env, kCodeExecutionFailed, "ICudaEngine::createExecutionContext returned null (see the logged errors)");
  Napi::Object wrap = ExecutionContext::Create(env, MakeHandle(c, {handle_}));
  ExecutionContext::Unwrap(wrap)->SetEngine(handle_);
  return wrap;
}

Napi::Value Engine::SetErrorRecorder(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ICudaEngine& e = Live(env);
  auto recorder = ErrorRecorderBridge::From(env, info[0], "recorder");
  if (recorder) handle_->dependencies.push_back(recorder);
  e.setErrorRecorder(recorder.get());
  return env.Undefined();
}

}  // namespace trt_refit
