#include "cuda_stream.h"

#include "common.h"
#include "cuda_loaded.h"
#include "completion_queue.h"

namespace trt_refit {

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
  CudaApi& cuda = LoadedCuda(env);
  // new CudaStream(device?): on `device`, else on the calling thread's current device.
  device_ = DeviceArg(env, info.Length() > 0 ? info[0] : env.Undefined(), "device");
  Guarded(env, [&] {
    ScopedDevice on(device_);
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
      ScopedDevice on(device_);  // the completion event must be created on the stream's device
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
  CudaApi& cuda = LoadedCuda(env);
  cudaError_t e = cuda.cudaStreamQuery(stream_);
  if (e == cudaErrorNotReady) return Napi::Boolean::New(env, false);
  Guarded(env, [&] { CheckCuda(e, "cudaStreamQuery"); });
  return Napi::Boolean::New(env, true);
}

Napi::Value CudaStream::WaitEvent(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw CodedError(env, kCodeDisposed, "CudaStream was used after dispose()");
  CudaEvent& event = CudaEvent::From(env, info[0], "event");
  Guarded(env, [&] { CheckCuda(LoadedCuda(env).cudaStreamWaitEvent(stream_, event.handle(), 0), "cudaStreamWaitEvent"); });
  return env.Undefined();
}

Napi::Value CudaStream::Dispose(Napi::CallbackInfo const& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value CudaStream::GetDisposed(Napi::CallbackInfo const& info) { return Napi::Boolean::New(info.Env(), disposed_); }
Napi::Value CudaStream::GetDeviceId(Napi::CallbackInfo const& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value CudaStream::GetHandle(Napi::CallbackInfo const& info) { return BigIntPointer(info.Env(), stream_); }

}  // namespace trt_refit
