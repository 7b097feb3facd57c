#include "trt/trt_refitter.h"

#include <cstring>

#include "cuda_api.h"
#include "cuda_stream.h"
#include "device_buffer.h"
#include "trt/trt_logger.h"

namespace trt_refit {

using nvinfer1::IRefitter;
using nvinfer1::Weights;


namespace {

int32_t IntArg(Napi::Env env, Napi::Value v, char const* parameter, int32_t lo, int32_t hi) {
  TRT_REFIT_TYPE_CHECK(v.IsNumber(), env, parameter, " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  TRT_REFIT_RANGE_CHECK(d >= lo && d <= hi && d == static_cast<double>(static_cast<int32_t>(d)), env, parameter,
                        " must be an integer in [", lo, ", ", hi, "], received ", d);
  return static_cast<int32_t>(d);
}

// The bytes behind weights values: a DeviceBuffer for DEVICE, any ArrayBufferView for HOST, or null for empty
// weights. Never lets TensorRT read past the end of what JS handed over.
Weights WeightsArg(Napi::Env env, Napi::CallbackInfo const& info, size_t first, nvinfer1::TensorLocation location) {
  auto type = static_cast<nvinfer1::DataType>(IntArg(env, info[first], "type", 0, nvinfer1::EnumMax<nvinfer1::DataType>() - 1));
  Napi::Value values = info[first + 1];
  TRT_REFIT_TYPE_CHECK(info[first + 2].IsNumber(), env, "count must be a number");
  double c = info[first + 2].As<Napi::Number>().DoubleValue();
  TRT_REFIT_RANGE_CHECK(c >= 0 && c <= 9007199254740991.0 && c == static_cast<double>(static_cast<int64_t>(c)), env,
                        "count must be a non-negative integer, received ", c);
  auto count = static_cast<int64_t>(c);
  void const* ptr = nullptr;
  size_t available = 0;
  if (values.IsNull() || values.IsUndefined()) {
    TRT_REFIT_RANGE_CHECK(count == 0, env, "values is null but count is ", count);
  } else if (location == nvinfer1::TensorLocation::kDEVICE) {
    DeviceBuffer& b = DeviceBuffer::From(env, values, "values");
    ptr = b.data();
    available = b.size();
  } else {
    ByteView v = BytesOf(env, values, "values");
    ptr = v.data;
    available = v.length;
  }
  size_t needed = BytesFor(type, count);
  TRT_REFIT_RANGE_CHECK(ptr == nullptr || available >= needed, env, "values has ", available, " bytes but ", count,
                        " elements of this type need ", needed);
  return Weights{type, ptr, count};
}

template <typename Fill>
std::vector<char const*> TwoCall(Fill fill) {
  int32_t n = fill(0, nullptr);
  std::vector<char const*> names(static_cast<size_t>(n > 0 ? n : 0), nullptr);
  if (n > 0) {
    int32_t m = fill(n, names.data());
    names.resize(static_cast<size_t>(std::max(0, std::min(n, m))));
  }
  return names;
}
}  // namespace

// --------------------------------------------------------------------------------------------------- Refitter

void Refitter::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName,
                                   WithBase({
                                       InstanceMethod<&Refitter::SetNamedWeights>("setNamedWeights"),
                                       InstanceMethod<&Refitter::NamedWeights>("namedWeights"),
                                       InstanceMethod<&Refitter::CopyNamedWeights>("copyNamedWeights"),
                                       InstanceMethod<&Refitter::GetWeightsLocation>("getWeightsLocation"),
                                       InstanceMethod<&Refitter::UnsetNamedWeights>("unsetNamedWeights"),
                                       InstanceMethod<&Refitter::GetMissingWeights>("getMissingWeights"),
                                       InstanceMethod<&Refitter::GetAllWeights>("getAllWeights"),
                                       InstanceMethod<&Refitter::GetWeightsPrototype>("getWeightsPrototype"),
                                       InstanceMethod<&Refitter::RefitCudaEngine>("refitCudaEngine"),
                                       InstanceMethod<&Refitter::RefitCudaEngineAsync>("refitCudaEngineAsync"),
                                       InstanceMethod<&Refitter::SetMaxThreads>("setMaxThreads"),
                                       InstanceMethod<&Refitter::GetMaxThreads>("getMaxThreads"),
                                       InstanceMethod<&Refitter::SetWeightsValidation>("setWeightsValidation"),
                                       InstanceMethod<&Refitter::GetWeightsValidation>("getWeightsValidation"),
                                       InstanceMethod<&Refitter::SetErrorRecorder>("setErrorRecorder"),
                                       InstanceMethod<&Refitter::SetWeights>("setWeights"),
                                       InstanceMethod<&Refitter::GetMissing>("getMissing"),
                                       InstanceMethod<&Refitter::GetAll>("getAll"),
                                   })));
}

Napi::Value Refitter::Dispose(Napi::CallbackInfo const& info) {
  parserRefitters_.clear();
  engine_.reset();
  return TrtWrap::Dispose(info);
}

// setNamedWeights(name, type, values, count, location): values is held by reference by TensorRT; the TS adapter
// keeps it alive until it is unset or the refitter is gone.
Napi::Value Refitter::SetNamedWeights(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  std::string name = NameArg(env, info[0], "name");
  auto location = static_cast<nvinfer1::TensorLocation>(IntArg(env, info[4], "location", 0, 1));
  Weights w = WeightsArg(env, info, 1, location);
  return Napi::Boolean::New(env, r.setNamedWeights(name.c_str(), w, location));
}

// namedWeights(name): { type, count, location, address } of what TensorRT currently holds, or null when unset.
Napi::Value Refitter::NamedWeights(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  std::string name = NameArg(env, info[0], "name");
  Weights w = r.getNamedWeights(name.c_str());
  if (!w.values) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", static_cast<int32_t>(w.type));
  o.Set("count", static_cast<double>(w.count));
  o.Set("location", static_cast<int32_t>(r.getWeightsLocation(name.c_str())));
  o.Set("address", BigIntPointer(env, w.values));
  return o;
}

// copyNamedWeights(name): a host copy of weights TensorRT holds that JS did not provide (e.g. those a parser
// refitter converted), or null when unset.
Napi::Value Refitter::CopyNamedWeights(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  std::string name = NameArg(env, info[0], "name");
  Weights w = r.getNamedWeights(name.c_str());
  if (!w.values) return env.Null();
  size_t bytes = BytesFor(w.type, w.count);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, bytes);
  if (r.getWeightsLocation(name.c_str()) == nvinfer1::TensorLocation::kHOST) {
    std::memcpy(out.Data(), w.values, bytes);
  } else {
    CudaApi& cuda = CudaApi::Get();
    if (!cuda.loaded()) throw CodedError(env, kCodeUnavailable, "the CUDA runtime is not loaded");
    Guarded(env, [&] { CheckCuda(cuda.cudaMemcpy(out.Data(), w.values, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (copyNamedWeights)"); });
  }
  return out;
}

Napi::Value Refitter::GetWeightsLocation(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  return Napi::Number::New(env, static_cast<int32_t>(r.getWeightsLocation(NameArg(env, info[0], "name").c_str())));
}

Napi::Value Refitter::UnsetNamedWeights(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  return Napi::Boolean::New(env, r.unsetNamedWeights(NameArg(env, info[0], "name").c_str()));
}

Napi::Value Refitter::GetMissingWeights(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  return StringsToJs(env, TwoCall([&](int32_t n, char const** out) { return r.getMissingWeights(n, out); }));
}

Napi::Value Refitter::GetAllWeights(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  return StringsToJs(env, TwoCall([&](int32_t n, char const** out) { return r.getAllWeights(n, out); }));
}

Napi::Value Refitter::GetWeightsPrototype(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  Weights w = r.getWeightsPrototype(NameArg(env, info[0], "name").c_str());
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", static_cast<int32_t>(w.type));
  o.Set("count", static_cast<double>(w.count));
  return o;
}

Napi::Value Refitter::Refit(Napi::CallbackInfo const& info, cudaStream_t stream, bool async) {
  Napi::Env env = info.Env();
  Live(env);
  if (!engine_) throw CodedError(env, kCodeDisposed, "the engine of this refitter was disposed");
  if (engine_->busy.load() > 0) throw CodedError(env, kCodeInvalidState, "the engine is busy with another refit");
  auto refitter = handle_;
  auto engine = engine_;
  auto result = std::make_shared<bool>(false);
  std::vector<std::shared_ptr<void>> holds{refitter, engine};
  holds.insert(holds.end(), parserRefitters_.begin(), parserRefitters_.end());
  std::vector<Napi::Value> keep;
  if (async) keep.push_back(info[0]);
  auto* w = new PromiseWorker(
      env, async ? "trt-refit:refitCudaEngineAsync" : "trt-refit:refitCudaEngine",
      [refitter, stream, async, result] {
        *result = async ? refitter->get()->refitCudaEngineAsync(stream) : refitter->get()->refitCudaEngine();
      },
      [result](Napi::Env e) -> Napi::Value { return Napi::Boolean::New(e, *result); }, keep,
      {&refitter->busy, &engine->busy}, std::move(holds));
  return PromiseWorker::Run(w);
}

Napi::Value Refitter::RefitCudaEngine(Napi::CallbackInfo const& info) { return Refit(info, nullptr, false); }

Napi::Value Refitter::RefitCudaEngineAsync(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  CudaStream& stream = CudaStream::From(env, info[0], "stream");
  return Refit(info, stream.handle(), true);
}

Napi::Value Refitter::SetMaxThreads(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), env, "maxThreads must be a number");
  return Napi::Boolean::New(env, r.setMaxThreads(info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value Refitter::GetMaxThreads(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), Live(info.Env()).getMaxThreads());
}

Napi::Value Refitter::SetWeightsValidation(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  TRT_REFIT_TYPE_CHECK(info[0].IsBoolean(), env, "enabled must be a boolean");
  r.setWeightsValidation(info[0].As<Napi::Boolean>().Value());
  return env.Undefined();
}

Napi::Value Refitter::GetWeightsValidation(Napi::CallbackInfo const& info) {
  return Napi::Boolean::New(info.Env(), Live(info.Env()).getWeightsValidation());
}

Napi::Value Refitter::SetErrorRecorder(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  auto recorder = ErrorRecorderBridge::From(env, info[0], "recorder");
  if (recorder) handle_->dependencies.push_back(recorder);
  r.setErrorRecorder(recorder.get());
  return env.Undefined();
}

// setWeights(layerName, role, type, values, count): the legacy layer + role API (host weights).
Napi::Value Refitter::SetWeights(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IRefitter& r = Live(env);
  std::string layer = NameArg(env, info[0], "layerName");
  auto role = static_cast<nvinfer1::WeightsRole>(IntArg(env, info[1], "role", 0, nvinfer1::EnumMax<nvinfer1::WeightsRole>() - 1));
  Weights w = WeightsArg(env, info, 2, nvinfer1::TensorLocation::kHOST);
  return Napi::Boolean::New(env, r.setWeights(layer.c_str(), role, w));
}

namespace {
template <typename Fill>
Napi::Array LayerRoles(Napi::Env env, Fill fill) {
  int32_t n = fill(0, nullptr, nullptr);
  std::vector<char const*> names(static_cast<size_t>(n > 0 ? n : 0), nullptr);
  std::vector<nvinfer1::WeightsRole> roles(names.size());
  if (n > 0) n = std::min(n, fill(n, names.data(), roles.data()));
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n > 0 ? n : 0));
  for (int32_t i = 0; i < n; ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("layerName", names[static_cast<size_t>(i)] ? names[static_cast<size_t>(i)] : "");
    o.Set("role", static_cast<int32_t>(roles[static_cast<size_t>(i)]));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}
}  // namespace

Napi::Value Refitter::GetMissing(Napi::CallbackInfo const& info) {
  IRefitter& r = Live(info.Env());
  return LayerRoles(info.Env(), [&](int32_t n, char const** names, nvinfer1::WeightsRole* roles) { return r.getMissing(n, names, roles); });
}

Napi::Value Refitter::GetAll(Napi::CallbackInfo const& info) {
  IRefitter& r = Live(info.Env());
  return LayerRoles(info.Env(), [&](int32_t n, char const** names, nvinfer1::WeightsRole* roles) { return r.getAll(n, names, roles); });
}

}  // namespace trt_refit
