#include "trt/trt_network.h"
#include "trt/trt_builder.h"

#include "trt/trt_logger.h"

namespace trt_refit {

using nvinfer1::IBuilder;
using nvinfer1::IBuilderConfig;
using nvinfer1::INetworkDefinition;


namespace {
Napi::Array TensorsToJs(Napi::Env env, INetworkDefinition& net, bool inputs) {
  int32_t n = inputs ? net.getNbInputs() : net.getNbOutputs();
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n > 0 ? n : 0));
  for (int32_t i = 0; i < n; ++i) {
    nvinfer1::ITensor* t = inputs ? net.getInput(i) : net.getOutput(i);
    if (!t) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", t->getName() ? t->getName() : "");
    o.Set("dtype", static_cast<int32_t>(t->getType()));
    o.Set("dims", DimsToJs(env, t->getDimensions()));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}
}  // namespace

// ---------------------------------------------------------------------------------------------------- Network

void Network::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&Network::GetNbLayers>("getNbLayers"),
                                       InstanceMethod<&Network::GetInputs>("getInputs"),
                                       InstanceMethod<&Network::GetOutputs>("getOutputs"),
                                       InstanceMethod<&Network::MarkWeightsRefittable>("markWeightsRefittable"),
                                       InstanceMethod<&Network::UnmarkWeightsRefittable>("unmarkWeightsRefittable"),
                                       InstanceMethod<&Network::AreWeightsMarkedRefittable>("areWeightsMarkedRefittable"),
                                   })));
}

Napi::Value Network::Dispose(Napi::CallbackInfo const& info) {
  parsers_.clear();
  return TrtWrap::Dispose(info);
}

Napi::Value Network::GetNbLayers(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), Live(info.Env()).getNbLayers());
}

Napi::Value Network::GetInputs(Napi::CallbackInfo const& info) { return TensorsToJs(info.Env(), Live(info.Env()), true); }
Napi::Value Network::GetOutputs(Napi::CallbackInfo const& info) { return TensorsToJs(info.Env(), Live(info.Env()), false); }

Napi::Value Network::MarkWeightsRefittable(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  INetworkDefinition& n = Live(env);
  return Napi::Boolean::New(env, n.markWeightsRefittable(NameArg(env, info[0], "name").c_str()));
}

Napi::Value Network::UnmarkWeightsRefittable(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  INetworkDefinition& n = Live(env);
  return Napi::Boolean::New(env, n.unmarkWeightsRefittable(NameArg(env, info[0], "name").c_str()));
}

Napi::Value Network::AreWeightsMarkedRefittable(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  INetworkDefinition& n = Live(env);
  return Napi::Boolean::New(env, n.areWeightsMarkedRefittable(NameArg(env, info[0], "name").c_str()));
}

}  // namespace trt_refit
