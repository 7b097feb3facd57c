#include "trt/trt_builder_config.h"
#include "trt/trt_builder.h"

#include "trt/trt_logger.h"

namespace trt_refit {

using nvinfer1::IBuilder;
using nvinfer1::IBuilderConfig;
using nvinfer1::INetworkDefinition;


// ---------------------------------------------------------------------------------------------- BuilderConfig

void BuilderConfig::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&BuilderConfig::SetFlags>("setFlags"),
                                       InstanceMethod<&BuilderConfig::GetFlags>("getFlags"),
                                       InstanceMethod<&BuilderConfig::SetProfilingVerbosity>("setProfilingVerbosity"),
                                       InstanceMethod<&BuilderConfig::GetProfilingVerbosity>("getProfilingVerbosity"),
                                       InstanceMethod<&BuilderConfig::SetMemoryPoolLimit>("setMemoryPoolLimit"),
                                       InstanceMethod<&BuilderConfig::AddOptimizationProfile>("addOptimizationProfile"),
                                       InstanceMethod<&BuilderConfig::GetNbOptimizationProfiles>("getNbOptimizationProfiles"),
                                   })));
}

// setFlags(mask): the whole BuilderFlags bit mask (bit numbers are those of the loaded major).
Napi::Value BuilderConfig::SetFlags(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilderConfig& c = Live(env);
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "flags must be a number (a bit mask)");
  c.setFlags(static_cast<nvinfer1::BuilderFlags>(info[0].As<Napi::Number>().Uint32Value()));
  return env.Undefined();
}

Napi::Value BuilderConfig::GetFlags(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Live(info.Env()).getFlags()));
}

Napi::Value BuilderConfig::SetProfilingVerbosity(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilderConfig& c = Live(env);
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "verbosity must be a number");
  int32_t v = info[0].As<Napi::Number>().Int32Value();
  TRT_REFIT_RANGE_CHECK(v >= 0 && v <= 2, env, "verbosity must be 0 (layer names), 1 (none) or 2 (detailed), received ", v);
  c.setProfilingVerbosity(static_cast<nvinfer1::ProfilingVerbosity>(v));
  return env.Undefined();
}

Napi::Value BuilderConfig::GetProfilingVerbosity(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), static_cast<int32_t>(Live(info.Env()).getProfilingVerbosity()));
}

// setMemoryPoolLimit(pool, bytes): pool 0 is the workspace.
Napi::Value BuilderConfig::SetMemoryPoolLimit(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilderConfig& c = Live(env);
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "pool must be a number");
  size_t bytes = SizeArg(env, info[1], "bytes");
  c.setMemoryPoolLimit(static_cast<nvinfer1::MemoryPoolType>(info[0].As<Napi::Number>().Int32Value()), bytes);
  return env.Undefined();
}

// addOptimizationProfile(builder, [{ name, min, opt, max }]): the profile index, or -1 when TensorRT refuses it
// (reason logged).
Napi::Value BuilderConfig::AddOptimizationProfile(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilderConfig& c = Live(env);
  Builder& builder = Builder::From(env, info[0], "builder");
  TRT_REFIT_TYPE_CHECK(info[1].IsArray(), env, "inputs must be an array of { name, min, opt, max }");
  nvinfer1::IOptimizationProfile* profile = builder.Live(env).createOptimizationProfile();
  if (!profile) return Napi::Number::New(env, -1);
  Napi::Array specs = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < specs.Length(); ++i) {
    Napi::Value s = specs.Get(i);
    TRT_REFIT_TYPE_CHECK(s.IsObject(), env, "inputs[", i, "] must be an object");
    Napi::Object o = s.As<Napi::Object>();
    std::string name = NameArg(env, o.Get("name"), "inputs[].name");
    using nvinfer1::OptProfileSelector;
    bool ok = profile->setDimensions(name.c_str(), OptProfileSelector::kMIN, DimsFromJs(env, o.Get("min"), "min")) &&
              profile->setDimensions(name.c_str(), OptProfileSelector::kOPT, DimsFromJs(env, o.Get("opt"), "opt")) &&
              profile->setDimensions(name.c_str(), OptProfileSelector::kMAX, DimsFromJs(env, o.Get("max"), "max"));
    if (!ok) return Napi::Number::New(env, -1);
  }
  return Napi::Number::New(env, c.addOptimizationProfile(profile));
}

Napi::Value BuilderConfig::GetNbOptimizationProfiles(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), Live(info.Env()).getNbOptimizationProfiles());
}

}  // namespace trt_refit
