// Shared helpers of the trt-refit addon: message building, JS errors with stable codes, and byte views over
// JS values. Every entry point throws Napi::Error (C++ exceptions are on), so one line per check suffices.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>

namespace trt_refit {

// Error codes shared with @trt-refit/core (TrtRefitErrorCode); the TS adapter maps them to typed errors.
constexpr char const* kCodeInvalidArgument = "ERR_TRT_REFIT_INVALID_ARGUMENT";
constexpr char const* kCodeDisposed = "ERR_TRT_REFIT_DISPOSED";
constexpr char const* kCodeDevice = "ERR_TRT_REFIT_DEVICE";
constexpr char const* kCodeUnavailable = "ERR_TRT_REFIT_BACKEND_UNAVAILABLE";
constexpr char const* kCodeInvalidState = "ERR_TRT_REFIT_INVALID_STATE";
constexpr char const* kCodeInvalidPlan = "ERR_TRT_REFIT_INVALID_PLAN";
constexpr char const* kCodeBuildFailed = "ERR_TRT_REFIT_BUILD_FAILED";
constexpr char const* kCodeExecutionFailed = "ERR_TRT_REFIT_EXECUTION_FAILED";
constexpr char const* kCodeNotRefittable = "ERR_TRT_REFIT_NOT_REFITTABLE";
constexpr char const* kCodeUnsupported = "ERR_TRT_REFIT_UNSUPPORTED_FEATURE";

template <typename... Args>
std::string Concat(Args&&... args) {
  std::ostringstream s;
  (s << ... << std::forward<Args>(args));
  return s.str();
}

// An Error carrying `code`, so JS can match on it without parsing the message.
inline Napi::Error CodedError(Napi::Env env, char const* code, std::string const& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

// An exception thrown off the JS thread (inside AsyncWorker::Execute or the completion thread) that keeps its
// code until it can become a JS error.
struct NativeFailure {
  char const* code;
  std::string message;
};

// Raw bytes of a JS value that TensorRT or CUDA will read or write. Accepts any ArrayBufferView or ArrayBuffer.
struct ByteView {
  uint8_t* data = nullptr;
  size_t length = 0;
};

// Runs `f`, turning a NativeFailure into a JS Error with its code (for entry points on the JS thread).
template <typename F>
auto Guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (NativeFailure const& e) {
    throw CodedError(env, e.code, e.message);
  }
}

inline bool IsBytes(Napi::Value v) {
  return v.IsTypedArray() || v.IsDataView() || v.IsArrayBuffer();
}

inline ByteView BytesOf(Napi::Env env, Napi::Value v, char const* parameter) {
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    Napi::ArrayBuffer ab = t.ArrayBuffer();
    return {static_cast<uint8_t*>(ab.Data()) + t.ByteOffset(), t.ByteLength()};
  }
  if (v.IsDataView()) {
    Napi::DataView d = v.As<Napi::DataView>();
    Napi::ArrayBuffer ab = d.ArrayBuffer();
    return {static_cast<uint8_t*>(ab.Data()) + d.ByteOffset(), d.ByteLength()};
  }
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    return {static_cast<uint8_t*>(ab.Data()), ab.ByteLength()};
  }
  throw Napi::TypeError::New(env, Concat(parameter, " must be an ArrayBufferView or ArrayBuffer"));
}

// A non-negative integer argument that fits in size_t and is a safe JS integer.
inline size_t SizeArg(Napi::Env env, Napi::Value v, char const* parameter) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, Concat(parameter, " must be a number"));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw Napi::RangeError::New(env, Concat(parameter, " must be a non-negative safe integer, received ", d));
  }
  return static_cast<size_t>(d);
}

inline std::string StringArg(Napi::Env env, Napi::Value v, char const* parameter) {
  if (!v.IsString()) throw Napi::TypeError::New(env, Concat(parameter, " must be a string"));
  return v.As<Napi::String>().Utf8Value();
}

inline Napi::Value BigIntPointer(Napi::Env env, void const* p) {
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
}

}  // namespace trt_refit

#define TRT_REFIT_TYPE_CHECK(cond, env, ...) \
  do {                                        \
    if (!(cond)) throw Napi::TypeError::New((env), ::trt_refit::Concat(__VA_ARGS__)); \
  } while (0)

#define TRT_REFIT_RANGE_CHECK(cond, env, ...) \
  do {                                         \
    if (!(cond)) throw Napi::RangeError::New((env), ::trt_refit::Concat(__VA_ARGS__)); \
  } while (0)
