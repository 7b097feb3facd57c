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

// ---------------------------------------------------------------------------------------------------- Builder

void Builder::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&Builder::CreateNetwork>("createNetwork"),
                                       InstanceMethod<&Builder::CreateBuilderConfig>("createBuilderConfig"),
                                       InstanceMethod<&Builder::BuildSerializedNetwork>("buildSerializedNetwork"),
                                       InstanceMethod<&Builder::SetErrorRecorder>("setErrorRecorder"),
                                       InstanceMethod<&Builder::SetMaxThreads>("setMaxThreads"),
                                   })));
}

Napi::Value Builder::CreateNetwork(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilder& b = Live(env);
  // 0: explicit batch, weakly typed; the only mode of TensorRT 10 and 11 (kSTRONGLY_TYPED is deprecated in 11).
  INetworkDefinition* net = b.createNetworkV2(0);
  if (!net) throw CodedError(env, kCodeBuildFailed, "IBuilder::createNetworkV2 returned null (see the logged errors)");
  return Network::Create(env, MakeHandle(net, {handle_}));
}

Napi::Value Builder::CreateBuilderConfig(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilder& b = Live(env);
  IBuilderConfig* config = b.createBuilderConfig();
  if (!config) throw CodedError(env, kCodeBuildFailed, "IBuilder::createBuilderConfig returned null (see the logged errors)");
  // Detailed layer information, so the engine inspector can show what was fused.
  config->setProfilingVerbosity(nvinfer1::ProfilingVerbosity::kDETAILED);
  return BuilderConfig::Create(env, MakeHandle(config, {handle_}));
}

// buildSerializedNetwork(network, config): Promise<Uint8Array>, a zero-copy view of TensorRT's IHostMemory.
Napi::Value Builder::BuildSerializedNetwork(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Live(env);
  Network& network = Network::From(env, info[0], "network");
  BuilderConfig& config = BuilderConfig::From(env, info[1], "config");
  auto builder = handle_;
  auto net = network.handle();
  auto cfg = config.handle();
  auto parsers = network.parsers();
  auto memory = std::make_shared<nvinfer1::IHostMemory*>(nullptr);
  std::vector<std::shared_ptr<void>> holds{builder, net, cfg};
  holds.insert(holds.end(), parsers.begin(), parsers.end());
  auto* w = new PromiseWorker(
      env, "trt-refit:buildSerializedNetwork",
      [builder, net, cfg, memory] {
        *memory = builder->get()->buildSerializedNetwork(*net->get(), *cfg->get());
        if (!*memory) throw NativeFailure{kCodeBuildFailed, "TensorRT could not build the network (see the logged errors)"};
      },
      [memory](Napi::Env e) {
        nvinfer1::IHostMemory* m = *memory;
        *memory = nullptr;
        return HostMemoryToJs(e, m);
      },
      {}, {&builder->busy, &net->busy, &cfg->busy}, std::move(holds));
  return PromiseWorker::Run(w);
}

Napi::Value Builder::SetErrorRecorder(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilder& b = Live(env);
  auto recorder = ErrorRecorderBridge::From(env, info[0], "recorder");
  if (recorder) handle_->dependencies.push_back(recorder);
  b.setErrorRecorder(recorder.get());
  return env.Undefined();
}

Napi::Value Builder::SetMaxThreads(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IBuilder& b = Live(env);
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "maxThreads must be a number");
  return Napi::Boolean::New(env, b.setMaxThreads(info[0].As<Napi::Number>().Int32Value()));
}

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
