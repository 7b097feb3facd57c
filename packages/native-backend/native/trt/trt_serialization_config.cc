#include "trt/trt_serialization_config.h"
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

// ------------------------------------------------------------------------------------------ SerializationConfig

void SerializationConfig::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&SerializationConfig::SetFlags>("setFlags"),
                                       InstanceMethod<&SerializationConfig::GetFlags>("getFlags"),
                                       InstanceMethod<&SerializationConfig::SetFlag>("setFlag"),
                                       InstanceMethod<&SerializationConfig::ClearFlag>("clearFlag"),
                                       InstanceMethod<&SerializationConfig::GetFlag>("getFlag"),
                                   })));
}

namespace {
nvinfer1::SerializationFlag FlagArg(Napi::Env env, Napi::Value v) {
  TRT_REFIT_TYPE_CHECK(v.IsNumber(), env, "flag must be a number");
  int32_t f = v.As<Napi::Number>().Int32Value();
  TRT_REFIT_RANGE_CHECK(f >= 0 && f < 31, env, "flag must be a SerializationFlag bit number, received ", f);
  return static_cast<nvinfer1::SerializationFlag>(f);
}
}  // namespace

Napi::Value SerializationConfig::SetFlags(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "flags must be a number (a bit mask)");
  return Napi::Boolean::New(env, Live(env).setFlags(static_cast<nvinfer1::SerializationFlags>(info[0].As<Napi::Number>().Uint32Value())));
}
Napi::Value SerializationConfig::GetFlags(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env()).getFlags()));
}
Napi::Value SerializationConfig::SetFlag(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  return Napi::Boolean::New(env, Live(env).setFlag(FlagArg(env, info[0])));
}
Napi::Value SerializationConfig::ClearFlag(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  return Napi::Boolean::New(env, Live(env).clearFlag(FlagArg(env, info[0])));
}
Napi::Value SerializationConfig::GetFlag(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  return Napi::Boolean::New(env, Live(env).getFlag(FlagArg(env, info[0])));
}

}  // namespace trt_refit
