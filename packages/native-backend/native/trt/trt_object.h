// Ownership of TensorRT objects. TensorRT requires parents to outlive children (a runtime its engines, an engine
// its contexts and refitters, a network its parser's weights, every object its logger and error recorder), while
// JS finalizers run in any order. So each object sits in a TrtHandle that holds shared_ptrs to what it depends on:
// the TensorRT object is deleted when the last holder lets go, always before its parents. dispose() only drops
// the wrapper's share; an AsyncWorker in flight keeps its own.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "common.h"
#include "trt/trt_library.h"

namespace trt_refit {

template <typename T>
struct TrtHandle {
  // Declared before `object`, so destroyed after it.
  std::vector<std::shared_ptr<void>> dependencies;
  std::unique_ptr<T> object;
  // Async operations running on this object: synchronous calls are refused meanwhile (TensorRT objects are not
  // thread-safe).
  std::atomic<int> busy{0};

  T* get() const { return object.get(); }
};

template <typename T>
std::shared_ptr<TrtHandle<T>> MakeHandle(T* object, std::vector<std::shared_ptr<void>> dependencies) {
  auto h = std::make_shared<TrtHandle<T>>();
  h->dependencies = std::move(dependencies);
  h->object.reset(object);
  return h;
}

// Base of the JS wrappers: `new X(external)` only from C++, with the handle passed as an External.
template <typename Wrap, typename T>
class TrtWrap : public Napi::ObjectWrap<Wrap> {
 public:
  using Handle = std::shared_ptr<TrtHandle<T>>;

  explicit TrtWrap(Napi::CallbackInfo const& info) : Napi::ObjectWrap<Wrap>(info) {
    Napi::Env env = info.Env();
    TRT_REFIT_TYPE_CHECK(info.Length() > 0 && info[0].IsExternal(), env, Wrap::kName,
                         " cannot be constructed from JS; use the factory methods");
    handle_ = *info[0].As<Napi::External<Handle>>().Data();
  }

  static Napi::Object Create(Napi::Env env, Handle handle) {
    Napi::External<Handle> ext = Napi::External<Handle>::New(env, new Handle(std::move(handle)), [](Napi::Env, Handle* h) { delete h; });
    return AddonData::Of(env).Constructor(env, Wrap::kName).New({ext});
  }

  // The wrapper behind `v`, checked to be live.
  static Wrap& From(Napi::Env env, Napi::Value v, char const* parameter) {
    Napi::Function ctor = AddonData::Of(env).Constructor(env, Wrap::kName);
    TRT_REFIT_TYPE_CHECK(v.IsObject() && v.As<Napi::Object>().InstanceOf(ctor), env, parameter, " must be a ", Wrap::kName);
    Wrap* w = Napi::ObjectWrap<Wrap>::Unwrap(v.As<Napi::Object>());
    w->Live(env);
    return *w;
  }

  Handle const& handle() const { return handle_; }

  // The TensorRT object, for a synchronous call: refused after dispose() or while an async call runs.
  T& Live(Napi::Env env) const {
    if (!handle_) throw CodedError(env, kCodeDisposed, Concat(Wrap::kName, " was used after dispose()"));
    if (handle_->busy.load() > 0) {
      throw CodedError(env, kCodeInvalidState,
                       Concat(Wrap::kName, " is busy with an asynchronous call; await it before calling it again"));
    }
    return *handle_->object;
  }

 protected:
  // dispose() and `disposed`, appended to a class's own properties. Derived classes with children to release
  // first override Dispose (it is looked up on Wrap).
  static std::vector<Napi::ClassPropertyDescriptor<Wrap>> WithBase(std::vector<Napi::ClassPropertyDescriptor<Wrap>> props) {
    props.push_back(Napi::ObjectWrap<Wrap>::InstanceMethod("dispose", static_cast<Napi::Value (Wrap::*)(Napi::CallbackInfo const&)>(&Wrap::Dispose)));
    props.push_back(Napi::ObjectWrap<Wrap>::InstanceAccessor("disposed", static_cast<Napi::Value (Wrap::*)(Napi::CallbackInfo const&)>(&Wrap::GetDisposed), nullptr));
    return props;
  }

 public:
  Napi::Value Dispose(Napi::CallbackInfo const& info) {
    handle_.reset();
    return info.Env().Undefined();
  }
  Napi::Value GetDisposed(Napi::CallbackInfo const& info) { return Napi::Boolean::New(info.Env(), !handle_); }

 protected:
  Handle handle_;
};

// An AsyncWorker returning a Promise: `execute` runs off the JS thread (TensorRT work only, no N-API), `resolve`
// builds the value on the JS thread. `keep` holds JS values (input buffers) alive until it settles; `busy` marks
// handles whose synchronous calls must wait.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, char const* name, std::function<void()> execute,
                std::function<Napi::Value(Napi::Env)> resolve, std::vector<Napi::Value> keep = {},
                std::vector<std::atomic<int>*> busy = {}, std::vector<std::shared_ptr<void>> holds = {})
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        execute_(std::move(execute)),
        resolve_(std::move(resolve)),
        busy_(std::move(busy)),
        holds_(std::move(holds)) {
    for (Napi::Value v : keep) {
      if (v.IsObject()) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
    for (auto* b : busy_) ++*b;
  }
  ~PromiseWorker() override {
    for (auto* b : busy_) --*b;
  }

  // Queues the work and returns its Promise.
  static Napi::Promise Run(PromiseWorker* w) {
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
  }

  void Execute() override {
    try {
      execute_();
    } catch (NativeFailure const& f) {
      code_ = f.code;
      SetError(f.message);
    } catch (std::exception const& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnOK() override {
    Release();
    try {
      deferred_.Resolve(resolve_ ? resolve_(Env()) : Env().Undefined());
    } catch (Napi::Error const& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(Napi::Error const& e) override {
    Release();
    if (code_) e.Set("code", Napi::String::New(Env(), code_));
    deferred_.Reject(e.Value());
  }

 private:
  // Clears busy marks before settling, so code continuing after `await` may call the objects again.
  void Release() {
    for (auto* b : busy_) --*b;
    busy_.clear();
  }
  Napi::Promise::Deferred deferred_;
  std::function<void()> execute_;
  std::function<Napi::Value(Napi::Env)> resolve_;
  std::vector<Napi::ObjectReference> keep_;
  std::vector<std::atomic<int>*> busy_;
  std::vector<std::shared_ptr<void>> holds_;
  char const* code_ = nullptr;
};

// Converts Dims to a JS array (-1 marks a dynamic dimension).
inline Napi::Array DimsToJs(Napi::Env env, nvinfer1::Dims const& d) {
  Napi::Array a = Napi::Array::New(env, d.nbDims > 0 ? static_cast<size_t>(d.nbDims) : 0);
  for (int32_t i = 0; i < d.nbDims; ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(d.d[i])));
  return a;
}

// Reads a JS array of integers into Dims; RangeError beyond Dims::MAX_DIMS or for values that are not integers.
inline nvinfer1::Dims DimsFromJs(Napi::Env env, Napi::Value v, char const* parameter) {
  TRT_REFIT_TYPE_CHECK(v.IsArray(), env, parameter, " must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  TRT_REFIT_RANGE_CHECK(a.Length() <= static_cast<uint32_t>(nvinfer1::Dims::MAX_DIMS), env, parameter, " has ",
                        a.Length(), " dimensions; TensorRT allows at most ", nvinfer1::Dims::MAX_DIMS);
  nvinfer1::Dims d{};
  d.nbDims = static_cast<int32_t>(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    TRT_REFIT_TYPE_CHECK(e.IsNumber(), env, parameter, "[", i, "] must be a number");
    double x = e.As<Napi::Number>().DoubleValue();
    TRT_REFIT_RANGE_CHECK(x >= -1 && x <= 9007199254740991.0 && x == static_cast<double>(static_cast<int64_t>(x)), env,
                          parameter, "[", i, "] must be an integer >= -1, received ", x);
    d.d[i] = static_cast<int64_t>(x);
  }
  return d;
}

// Bytes per element of a TensorRT data type, as a (numerator, denominator) pair: INT4 and FP4 pack two per byte.
inline size_t BytesFor(nvinfer1::DataType t, int64_t count) {
  using nvinfer1::DataType;
  size_t n = static_cast<size_t>(count < 0 ? 0 : count);
  switch (t) {
    case DataType::kFLOAT:
    case DataType::kINT32:
      return n * 4;
    case DataType::kHALF:
    case DataType::kBF16:
      return n * 2;
    case DataType::kINT64:
      return n * 8;
    case DataType::kINT4:
    case DataType::kFP4:
      return (n + 1) / 2;
    default:
      return n;
  }
}

inline Napi::Array StringsToJs(Napi::Env env, std::vector<char const*> const& names) {
  Napi::Array a = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i] ? names[i] : ""));
  return a;
}

// A name argument for TensorRT: a string of at most 4095 bytes without NUL (TensorRT's limit is 4096 with the
// terminator, and an embedded NUL would silently truncate it).
inline std::string NameArg(Napi::Env env, Napi::Value v, char const* parameter) {
  std::string s = StringArg(env, v, parameter);
  TRT_REFIT_RANGE_CHECK(s.size() < 4096, env, parameter, " is ", s.size(), " bytes; TensorRT names are at most 4095 bytes");
  TRT_REFIT_RANGE_CHECK(s.find('\0') == std::string::npos, env, parameter, " must not contain NUL characters");
  return s;
}

// Zero-copy Uint8Array over TensorRT host memory; the finalizer destroys the IHostMemory.
inline Napi::Value HostMemoryToJs(Napi::Env env, nvinfer1::IHostMemory* memory) {
  if (!memory) return env.Null();
  size_t size = memory->size();
  if (size == 0) {
    delete memory;
    return Napi::Uint8Array::New(env, 0);
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, memory->data(), size, [](Napi::Env, void*, nvinfer1::IHostMemory* m) { delete m; }, memory);
  return Napi::Uint8Array::New(env, size, ab, 0);
}

}  // namespace trt_refit
