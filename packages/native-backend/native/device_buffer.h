// DeviceBuffer: cudaMalloc'ed memory with sync and stream-ordered async copies. The allocation is reported to
// V8 (AdjustExternalMemory) so the GC knows what an unreachable buffer costs.
#pragma once

#include <napi.h>

#include <cstdint>

#include "addon_data.h"
#include "cuda_api.h"

namespace trt_refit {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static void Init(Napi::Env env, AddonData& data);
  // The buffer behind `v`; TypeError when `v` is not one, coded DISPOSED error when it was disposed.
  static DeviceBuffer& From(Napi::Env env, Napi::Value v, char const* parameter);
  static bool Is(Napi::Env env, Napi::Value v);

  explicit DeviceBuffer(Napi::CallbackInfo const& info);
  ~DeviceBuffer() override;

  void* data() const { return ptr_; }
  size_t size() const { return size_; }
  bool disposed() const { return disposed_; }
  int device() const { return device_; }
  // Device work that reads or writes this buffer is in flight (another module's, e.g. the LoRA merge): the wrapper
  // stays alive and dispose() defers the free until the matching EndDeviceWork.
  void BeginDeviceWork() {
    ++pending_;
    Ref();
  }
  void EndDeviceWork(Napi::Env env) { OpFinished(env); }

 private:
  Napi::Value Upload(Napi::CallbackInfo const& info);
  Napi::Value Download(Napi::CallbackInfo const& info);
  Napi::Value UploadAsync(Napi::CallbackInfo const& info);
  Napi::Value DownloadAsync(Napi::CallbackInfo const& info);
  Napi::Value Dispose(Napi::CallbackInfo const& info);
  Napi::Value GetByteLength(Napi::CallbackInfo const& info);
  Napi::Value GetDeviceId(Napi::CallbackInfo const& info);
  Napi::Value GetDisposed(Napi::CallbackInfo const& info);
  Napi::Value GetAddress(Napi::CallbackInfo const& info);

  void EnsureLive(Napi::Env env) const;
  // Checks that [offset, offset + length) lies inside the buffer.
  void CheckRange(Napi::Env env, size_t offset, size_t length, char const* what) const;
  // RangeError unless a stream of `streamDevice` may carry this buffer's copies (it must be the buffer's device).
  void CheckStreamDevice(Napi::Env env, int streamDevice, char const* what) const;
  void Free(Napi::Env env) noexcept;
  void OpFinished(Napi::Env env);

  uint8_t* ptr_ = nullptr;
  size_t size_ = 0;
  int device_ = 0;
  bool disposed_ = false;
  bool freed_ = false;
  // Async copies in flight: dispose() during one frees the memory only when the last completes.
  int pending_ = 0;
};

// True when `p` is page-locked host memory (cudaHostAlloc or registered), so copies from it need no staging.
bool IsPinnedHostPointer(void const* p);

}  // namespace trt_refit
