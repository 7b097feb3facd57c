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

// ---------------------------------------------------------------------------------------------------- Runtime

void Runtime::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&Runtime::DeserializeCudaEngine>("deserializeCudaEngine"),
                                       InstanceMethod<&Runtime::LoadRuntime>("loadRuntime"),
                                       InstanceMethod<&Runtime::SetEngineHostCodeAllowed>("setEngineHostCodeAllowed"),
                                       InstanceMethod<&Runtime::GetEngineHostCodeAllowed>("getEngineHostCodeAllowed"),
                                       InstanceMethod<&Runtime::SetErrorRecorder>("setErrorRecorder"),
                                       InstanceMethod<&Runtime::SetMaxThreads>("setMaxThreads"),
                                   })));
}

// deserializeCudaEngine(plan): Promise<Engine>. The plan bytes are held until the call returns (TensorRT copies
// what it keeps).
Napi::Value Runtime::DeserializeCudaEngine(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Live(env);
  ByteView plan = BytesOf(env, info[0], "plan");
  TRT_REFIT_RANGE_CHECK(plan.length > 0, env, "plan is empty");
  auto runtime = handle_;
  auto engine = std::make_shared<ICudaEngine*>(nullptr);
  auto const planBytes = static_cast<int64_t>(plan.length);
  auto* w = new PromiseWorker(
      env, "trt-refit:deserializeCudaEngine",
      [runtime, plan, engine] {
        *engine = runtime->get()->deserializeCudaEngine(plan.data, plan.length);
        if (!*engine) throw NativeFailure{kCodeInvalidPlan, "TensorRT could not deserialize the plan (see the logged errors)"};
      },
      [runtime, engine, planBytes](Napi::Env e) -> Napi::Value {
        ICudaEngine* raw = *engine;
        *engine = nullptr;
        Napi::Object wrap = Engine::Create(e, MakeHandle(raw, {runtime}));
        Engine::Unwrap(wrap)->ReportExternalMemory(e, planBytes);
        return wrap;
      },
      {info[0]}, {&runtime->busy}, {runtime});
  return PromiseWorker::Run(w);
}

// loadRuntime(path): Promise<Runtime> for plans built with VERSION_COMPATIBLE + EXCLUDE_LEAN_RUNTIME.
Napi::Value Runtime::LoadRuntime(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Live(env);
  std::string path = StringArg(env, info[0], "path");
  auto runtime = handle_;
  auto child = std::make_shared<IRuntime*>(nullptr);
  auto* w = new PromiseWorker(
      env, "trt-refit:loadRuntime",
      [runtime, path, child] {
        *child = runtime->get()->loadRuntime(path.c_str());
        if (!*child) throw NativeFailure{kCodeInvalidState, Concat("IRuntime::loadRuntime(", path, ") failed (see the logged errors)")};
      },
      [runtime, child](Napi::Env e) -> Napi::Value {
        IRuntime* raw = *child;
        *child = nullptr;
        return Runtime::Create(e, MakeHandle(raw, {runtime}));
      },
      {}, {&runtime->busy}, {runtime});
  return PromiseWorker::Run(w);
}

Napi::Value Runtime::SetEngineHostCodeAllowed(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TRT_REFIT_TYPE_CHECK(info[0].IsBoolean(), env, "allowed must be a boolean");
  Live(env).setEngineHostCodeAllowed(info[0].As<Napi::Boolean>().Value());
  return env.Undefined();
}

Napi::Value Runtime::GetEngineHostCodeAllowed(Napi::CallbackInfo const& info) {
  return Napi::Boolean::New(info.Env(), Live(info.Env()).getEngineHostCodeAllowed());
}

Napi::Value Runtime::SetErrorRecorder(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRuntime& r = Live(env);
  auto recorder = ErrorRecorderBridge::From(env, info[0], "recorder");
  if (recorder) handle_->dependencies.push_back(recorder);
  r.setErrorRecorder(recorder.get());
  return env.Undefined();
}

Napi::Value Runtime::SetMaxThreads(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "maxThreads must be a number");
  return Napi::Boolean::New(env, Live(env).setMaxThreads(info[0].As<Napi::Number>().Int32Value()));
}

}  // namespace trt_refit
