#include "cuda_event.h"
#include "cuda_stream.h"

#include "common.h"
#include "cuda_loaded.h"
#include "completion_queue.h"

namespace trt_refit {

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
  CudaApi& cuda = LoadedCuda(env);
  // new CudaEvent(timing, device?): created on `device`, else on the calling thread's current device.
  device_ = DeviceArg(env, info.Length() > 1 ? info[1] : env.Undefined(), "device");
  Guarded(env, [&] {
    ScopedDevice on(device_);
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
  TRT_REFIT_RANGE_CHECK(stream.device() == device_, env, "record: the stream belongs to device ", stream.device(),
                        " but the event to device ", device_, " (CUDA records an event only on a stream of its device)");
  Guarded(env, [&] { CheckCuda(LoadedCuda(env).cudaEventRecord(event_, stream.handle()), "cudaEventRecord"); });
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
  cudaError_t e = LoadedCuda(env).cudaEventQuery(event_);
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
  Guarded(env, [&] { CheckCuda(LoadedCuda(env).cudaEventElapsedTime(&ms, start.event_, event_), "cudaEventElapsedTime"); });
  return Napi::Number::New(env, ms);
}

Napi::Value CudaEvent::Dispose(Napi::CallbackInfo const& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value CudaEvent::GetDisposed(Napi::CallbackInfo const& info) { return Napi::Boolean::New(info.Env(), disposed_); }

}  // namespace trt_refit
