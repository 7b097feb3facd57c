#include "cuda_stream.h"

#include "common.h"
#include "completion_queue.h"

namespace trt_refit {

namespace {
CudaApi& Cuda(Napi::Env env) {
  CudaApi& cuda = CudaApi::Get();
  if (!cuda.loaded()) throw CodedError(env, kCodeUnavailable, "the CUDA runtime is not loaded");
  return cuda;
}
}  // namespace

// ---------------------------------------------------------------------------------------------- CudaStream

void CudaStream::Init(Napi::Env env, AddonData& data) {
  Napi::Function ctor = DefineClass(env, "CudaStream",
                                    {
                                        InstanceMethod<&CudaStream::Synchronize>("synchronize"),
                                        InstanceMethod<&CudaStream::Query>("query"),
                                        InstanceMethod<&CudaStream::WaitEvent>("waitEvent"),
                                        InstanceMethod<&CudaStream::Dispose>("dispose"),
                                        InstanceAccessor<&CudaStream::GetDisposed>("disposed"),
                                        InstanceAccessor<&CudaStream::GetDeviceId>("deviceId"),
                                        InstanceAccessor<&CudaStream::GetHandle>("handle"),
                                    });
  data.Register("CudaStream", ctor);
}

CudaStream& CudaStream::From(Napi::Env env, Napi::Value v, char const* parameter) {
  Napi::Function ctor = AddonData::Of(env).Constructor(env, "CudaStream");
  TRT_REFIT_TYPE_CHECK(v.IsObject() && v.As<Napi::Object>().InstanceOf(ctor), env, parameter,
                       " must be a CudaStream created by this backend");
  CudaStream* s = Unwrap(v.As<Napi::Object>());
  if (s->disposed_) throw CodedError(env, kCodeDisposed, Concat(parameter, ": CudaStream was used after dispose()"));
  return *s;
}

CudaStream::CudaStream(Napi::CallbackInfo const& info) : Napi::ObjectWrap<CudaStream>(info) {
  Napi::Env env = info.Env();
  CudaApi& cuda = Cuda(env);
  Guarded(env, [&] {
    CheckCuda(cuda.cudaGetDevice(&device_), "cudaGetDevice");
    // Non-blocking: the legacy default stream must not serialise our copies with unrelated work.
    CheckCuda(cuda.cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  });
}

CudaStream::~CudaStream() { Release(); }

void CudaStream::Release() noexcept {
  if (stream_) {
    // Work still queued completes first; CUDA frees the stream afterwards.
    CudaApi::Get().cudaStreamDestroy(stream_);
    stream_ = nullptr;
  }
  disposed_ = true;
}

Napi::Value CudaStream::Synchronize(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaStream was used after dispose()");
  Ref();
  return Guarded(env, [&] {
    try {
      return WhenComplete(env, stream_, nullptr, nullptr, [this] { Unref(); });
    } catch (...) {
      Unref();
      throw;
    }
  });
}

Napi::Value CudaStream::Query(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaStream was used after dispose()");
  CudaApi& cuda = Cuda(env);
  cudaError_t e = cuda.cudaStreamQuery(stream_);
  if (e == cudaErrorNotReady) return Napi::Boolean::New(env, false);
  Guarded(env, [&] { CheckCuda(e, "cudaStreamQuery"); });
  return Napi::Boolean::New(env, true);
}

Napi::Value CudaStream::WaitEvent(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaStream was used after dispose()");
  CudaEvent& event = CudaEvent::From(env, info[0], "event");
  Guarded(env, [&] { CheckCuda(Cuda(env).cudaStreamWaitEvent(stream_, event.handle(), 0), "cudaStreamWaitEvent"); });
  return env.Undefined();
}

Napi::Value CudaStream::Dispose(Napi::CallbackInfo const& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value CudaStream::GetDisposed(Napi::CallbackInfo const& info) { return Napi::Boolean::New(info.Env(), disposed_); }
Napi::Value CudaStream::GetDeviceId(Napi::CallbackInfo const& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value CudaStream::GetHandle(Napi::CallbackInfo const& info) { return BigIntPointer(info.Env(), stream_); }

// ----------------------------------------------------------------------------------------------- CudaEvent

void CudaEvent::Init(Napi::Env env, AddonData& data) {
  Napi::Function ctor = DefineClass(env, "CudaEvent",
                                    {
                                        InstanceMethod<&CudaEvent::Record>("record"),
                                        InstanceMethod<&CudaEvent::Synchronize>("synchronize"),
                                        InstanceMethod<&CudaEvent::Query>("query"),
                                        InstanceMethod<&CudaEvent::ElapsedTime>("elapsedTime"),
                                        InstanceMethod<&CudaEvent::Dispose>("dispose"),
                                        InstanceAccessor<&CudaEvent::GetDisposed>("disposed"),
                                    });
  data.Register("CudaEvent", ctor);
}

CudaEvent& CudaEvent::From(Napi::Env env, Napi::Value v, char const* parameter) {
  Napi::Function ctor = AddonData::Of(env).Constructor(env, "CudaEvent");
  TRT_REFIT_TYPE_CHECK(v.IsObject() && v.As<Napi::Object>().InstanceOf(ctor), env, parameter,
                       " must be a CudaEvent created by this backend");
  CudaEvent* e = Unwrap(v.As<Napi::Object>());
  if (e->disposed_) throw CodedError(env, kCodeDisposed, Concat(parameter, ": CudaEvent was used after dispose()"));
  return *e;
}

CudaEvent::CudaEvent(Napi::CallbackInfo const& info) : Napi::ObjectWrap<CudaEvent>(info) {
  Napi::Env env = info.Env();
  timing_ = info.Length() > 0 && info[0].ToBoolean().Value();
  CudaApi& cuda = Cuda(env);
  Guarded(env, [&] {
    CheckCuda(cuda.cudaEventCreateWithFlags(&event_, timing_ ? cudaEventDefault : cudaEventDisableTiming),
              "cudaEventCreateWithFlags");
  });
}

CudaEvent::~CudaEvent() {
  // A finalized event has no pending synchronize() (that holds a reference), so it can go now.
  waiting_ = 0;
  Release();
}

void CudaEvent::Release() noexcept {
  disposed_ = true;
  if (event_ && waiting_ == 0) {
    CudaApi::Get().cudaEventDestroy(event_);
    event_ = nullptr;
  }
}

Napi::Value CudaEvent::Record(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaEvent was used after dispose()");
  CudaStream& stream = CudaStream::From(env, info[0], "stream");
  Guarded(env, [&] { CheckCuda(Cuda(env).cudaEventRecord(event_, stream.handle()), "cudaEventRecord"); });
  return env.Undefined();
}

Napi::Value CudaEvent::Synchronize(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaEvent was used after dispose()");
  ++waiting_;
  Ref();
  auto finish = [this] {
    --waiting_;
    if (disposed_) Release();
    Unref();
  };
  return Guarded(env, [&] {
    try {
      return WhenEventComplete(env, event_, finish);
    } catch (...) {
      finish();
      throw;
    }
  });
}

Napi::Value CudaEvent::Query(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaEvent was used after dispose()");
  cudaError_t e = Cuda(env).cudaEventQuery(event_);
  if (e == cudaErrorNotReady) return Napi::Boolean::New(env, false);
  Guarded(env, [&] { CheckCuda(e, "cudaEventQuery"); });
  return Napi::Boolean::New(env, true);
}

// elapsedTime(start): milliseconds from `start` to this event (both recorded, both created with timing).
Napi::Value CudaEvent::ElapsedTime(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaEvent was used after dispose()");
  CudaEvent& start = From(env, info[0], "start");
  TRT_REFIT_TYPE_CHECK(timing_ && start.timing_, env, "elapsedTime needs two events created with timing enabled");
  float ms = 0;
  Guarded(env, [&] { CheckCuda(Cuda(env).cudaEventElapsedTime(&ms, start.event_, event_), "cudaEventElapsedTime"); });
  return Napi::Number::New(env, ms);
}

Napi::Value CudaEvent::Dispose(Napi::CallbackInfo const& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value CudaEvent::GetDisposed(Napi::CallbackInfo const& info) { return Napi::Boolean::New(info.Env(), disposed_); }

}  // namespace trt_refit
