// IRuntime, ICudaEngine, ISerializationConfig and IExecutionContext wraps.
#pragma once

#include "trt/trt_object.h"

namespace trt_refit {

class Runtime : public TrtWrap<Runtime, nvinfer1::IRuntime> {
 public:
  static constexpr char const* kName = "Runtime";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

 private:
  Napi::Value DeserializeCudaEngine(Napi::CallbackInfo const& info);
  Napi::Value LoadRuntime(Napi::CallbackInfo const& info);
  Napi::Value SetEngineHostCodeAllowed(Napi::CallbackInfo const& info);
  Napi::Value GetEngineHostCodeAllowed(Napi::CallbackInfo const& info);
  Napi::Value SetErrorRecorder(Napi::CallbackInfo const& info);
  Napi::Value SetMaxThreads(Napi::CallbackInfo const& info);
};

class Engine : public TrtWrap<Engine, nvinfer1::ICudaEngine> {
 public:
  static constexpr char const* kName = "Engine";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

  // Tells V8's GC the engine holds about `bytes` of native memory (its plan's size), so that unreferenced engines
  // are collected under memory pressure; given back on dispose() or finalization.
  void ReportExternalMemory(Napi::Env env, int64_t bytes);
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info) { return TrtWrap::GetDisposed(info); }
  void Finalize(Napi::Env env) override;

 private:
  Napi::Value IsRefittable(Napi::CallbackInfo const& info);
  Napi::Value CreateSerializationConfig(Napi::CallbackInfo const& info);
  Napi::Value Serialize(Napi::CallbackInfo const& info);
  Napi::Value SerializeWithConfig(Napi::CallbackInfo const& info);
  Napi::Value GetEngineStat(Napi::CallbackInfo const& info);
  Napi::Value GetEngineInformation(Napi::CallbackInfo const& info);
  Napi::Value GetNbLayers(Napi::CallbackInfo const& info);
  Napi::Value GetIOTensors(Napi::CallbackInfo const& info);
  Napi::Value CreateExecutionContext(Napi::CallbackInfo const& info);
  Napi::Value SetErrorRecorder(Napi::CallbackInfo const& info);

  int64_t externalBytes_ = 0;
};

class SerializationConfig : public TrtWrap<SerializationConfig, nvinfer1::ISerializationConfig> {
 public:
  static constexpr char const* kName = "SerializationConfig";
  static void Init(Napi::Env env, AddonData& data);
  using TrtWrap::TrtWrap;

 private:
  Napi::Value SetFlags(Napi::CallbackInfo const& info);
  Napi::Value GetFlags(Napi::CallbackInfo const& info);
  Napi::Value SetFlag(Napi::CallbackInfo const& info);
  Napi::Value ClearFlag(Napi::CallbackInfo const& info);
  Napi::Value GetFlag(Napi::CallbackInfo const& info);
};

class ExecutionContext : public TrtWrap<ExecutionContext, nvinfer1::IExecutionContext> {
 public:
  static constexpr char const* kName = "ExecutionContext";
  static void Init(Napi::Env env, AddonData& data);
  explicit ExecutionContext(Napi::CallbackInfo const& info) : TrtWrap(info) {}
  ~ExecutionContext() override;

  void SetEngine(std::shared_ptr<TrtHandle<nvinfer1::ICudaEngine>> engine) { engine_ = std::move(engine); }
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info) { return TrtWrap::GetDisposed(info); }

 private:
  Napi::Value Execute(Napi::CallbackInfo const& info);
  // Device memory for `total` bytes of I/O on the current device (reused while large enough).
  void EnsureArena(size_t total);
  void ReleaseDeviceMemory() noexcept;

  std::shared_ptr<TrtHandle<nvinfer1::ICudaEngine>> engine_;
  cudaStream_t ownStream_ = nullptr;
  void* arena_ = nullptr;  // device memory for the I/O tensors, grown as needed
  size_t arenaSize_ = 0;
  int arenaDevice_ = 0;
  bool running_ = false;
  bool disposeWhenDone_ = false;
};

}  // namespace trt_refit
