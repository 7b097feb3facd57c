#include "trt/trt_builder.h"

#include "trt/trt_logger.h"

namespace trt_refit {

using nvinfer1::IBuilder;
using nvinfer1::IBuilderConfig;
using nvinfer1::INetworkDefinition;


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

}  // namespace trt_refit
