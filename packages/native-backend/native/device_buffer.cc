#include "device_buffer.h"

#include <cstring>
#include <memory>

#include "common.h"
#include "completion_queue.h"
#include "cuda_loaded.h"
#include "cuda_stream.h"
#include "pinned_pool.h"

namespace trt_refit {

namespace {

CudaApi& Cuda(Napi::Env env) {
  CudaApi& cuda = CudaApi::Get();
  if (!cuda.loaded()) throw CodedError(env, kCodeUnavailable, "the CUDA runtime is not loaded");
  return cuda;
}

size_t OffsetArg(Napi::Env env, Napi::CallbackInfo const& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined()) return 0;
  return SizeArg(env, info[index], "offset");
}

// Releases a staging block when the last owner (the completion callback or an error path) lets go.
struct Staging {
  explicit Staging(PinnedPool::Block b) : block(b) {}
  Staging(Staging const&) = delete;
  Staging& operator=(Staging const&) = delete;
  ~Staging() { PinnedPool::Get().Release(block); }
  PinnedPool::Block block;
};

}  // namespace

bool IsPinnedHostPointer(void const* p) {
  CudaApi& cuda = CudaApi::Get();
  cudaPointerAttributes attr{};
  cudaError_t e = cuda.cudaPointerGetAttributes(&attr, p);
  if (e != cudaSuccess) {
    cuda.cudaGetLastError();
    return false;
  }
  return attr.type == cudaMemoryTypeHost;
}

void DeviceBuffer::Init(Napi::Env env, AddonData& data) {
  Napi::Function ctor = DefineClass(env, "DeviceBuffer",
                                    {
                                        InstanceMethod<&DeviceBuffer::Upload>("upload"),
                                        InstanceMethod<&DeviceBuffer::Download>("download"),
                                        InstanceMethod<&DeviceBuffer::UploadAsync>("uploadAsync"),
                                        InstanceMethod<&DeviceBuffer::DownloadAsync>("downloadAsync"),
                                        InstanceMethod<&DeviceBuffer::Dispose>("dispose"),
                                        InstanceAccessor<&DeviceBuffer::GetByteLength>("byteLength"),
                                        InstanceAccessor<&DeviceBuffer::GetDeviceId>("deviceId"),
                                        InstanceAccessor<&DeviceBuffer::GetDisposed>("disposed"),
                                        InstanceAccessor<&DeviceBuffer::GetAddress>("address"),
                                    });
  data.Register("DeviceBuffer", ctor);
}

bool DeviceBuffer::Is(Napi::Env env, Napi::Value v) {
  return v.IsObject() && v.As<Napi::Object>().InstanceOf(AddonData::Of(env).Constructor(env, "DeviceBuffer"));
}

DeviceBuffer& DeviceBuffer::From(Napi::Env env, Napi::Value v, char const* parameter) {
  TRT_REFIT_TYPE_CHECK(Is(env, v), env, parameter, " must be a DeviceBuffer allocated by this backend");
  DeviceBuffer* b = Unwrap(v.As<Napi::Object>());
  if (b->disposed_) throw CodedError(env, kCodeDisposed, Concat(parameter, ": DeviceBuffer was used after dispose()"));
  return *b;
}

DeviceBuffer::DeviceBuffer(Napi::CallbackInfo const& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  Napi::Env env = info.Env();
  size_ = SizeArg(env, info[0], "byteLength");
  CudaApi& cuda = Cuda(env);
  // new DeviceBuffer(byteLength, device?): on `device`, else on the calling thread's current device.
  device_ = DeviceArg(env, info.Length() > 1 ? info[1] : env.Undefined(), "device");
  Guarded(env, [&] {
    ScopedDevice on(device_);
    if (size_ > 0) {
      void* p = nullptr;
      cudaError_t e = cuda.cudaMalloc(&p, size_);
      if (e != cudaSuccess) {
        cuda.cudaGetLastError();
        size_t freeBytes = 0, total = 0;
        cuda.cudaMemGetInfo(&freeBytes, &total);
        throw NativeFailure{kCodeDevice, Concat("cudaMalloc of ", size_, " bytes on device ", device_, " failed: ",
                                                cuda.Describe(e), "; ", freeBytes, " of ", total, " bytes free")};
      }
      ptr_ = static_cast<uint8_t*>(p);
    }
  });
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size_));
}

DeviceBuffer::~DeviceBuffer() {
  // A finalized buffer has no copy in flight (each holds a reference), so it can be freed now.
  if (!freed_ && ptr_) CudaApi::Get().cudaFree(ptr_);
  if (!freed_) Napi::MemoryManagement::AdjustExternalMemory(Env(), -static_cast<int64_t>(size_));
  freed_ = true;
}

void DeviceBuffer::Free(Napi::Env env) noexcept {
  if (freed_) return;
  freed_ = true;
  if (ptr_) {
    CudaApi& cuda = CudaApi::Get();
    try {
      ScopedDevice on(device_);
      cuda.cudaFree(ptr_);
    } catch (NativeFailure const&) {
      cuda.cudaFree(ptr_);  // cudaFree finds the device of the pointer itself
    }
    ptr_ = nullptr;
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(size_));
}

void DeviceBuffer::EnsureLive(Napi::Env env) const {
  if (disposed_) throw CodedError(env, kCodeDisposed, "DeviceBuffer was used after dispose()");
}

void DeviceBuffer::CheckRange(Napi::Env env, size_t offset, size_t length, char const* what) const {
  TRT_REFIT_RANGE_CHECK(offset <= size_ && length <= size_ - offset, env, what, ": ", length, " bytes at offset ",
                        offset, " do not fit in a device buffer of ", size_, " bytes");
}

void DeviceBuffer::CheckStreamDevice(Napi::Env env, int streamDevice, char const* what) const {
  TRT_REFIT_RANGE_CHECK(streamDevice == device_, env, what, ": the stream belongs to device ", streamDevice,
                        " but the buffer to device ", device_, "; use a stream created on the buffer's device");
}

void DeviceBuffer::OpFinished(Napi::Env env) {
  if (--pending_ == 0 && disposed_) Free(env);
  Unref();
}

// upload(src, offset = 0): synchronous host-to-device copy.
Napi::Value DeviceBuffer::Upload(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  EnsureLive(env);
  ByteView src = BytesOf(env, info[0], "src");
  size_t offset = OffsetArg(env, info, 1);
  CheckRange(env, offset, src.length, "upload");
  if (src.length == 0) return env.Undefined();
  CudaApi& cuda = Cuda(env);
  Guarded(env, [&] {
    ScopedDevice on(device_);
    CheckCuda(cuda.cudaMemcpy(ptr_ + offset, src.data, src.length, cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
  });
  return env.Undefined();
}

// download(dst, offset = 0): synchronous device-to-host copy of dst.byteLength bytes starting at offset.
Napi::Value DeviceBuffer::Download(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  EnsureLive(env);
  ByteView dst = BytesOf(env, info[0], "dst");
  size_t offset = OffsetArg(env, info, 1);
  CheckRange(env, offset, dst.length, "download");
  if (dst.length == 0) return env.Undefined();
  CudaApi& cuda = Cuda(env);
  Guarded(env, [&] {
    ScopedDevice on(device_);
    CheckCuda(cuda.cudaMemcpy(dst.data, ptr_ + offset, dst.length, cudaMemcpyDeviceToHost), "cudaMemcpy (download)");
  });
  return env.Undefined();
}

// uploadAsync(src, stream, offset = 0): enqueued on `stream` now; the Promise resolves when the copy is done.
// Pageable sources up to PinnedPool::kMaxStagingBytes are first copied into a pinned staging block, so the
// transfer is truly asynchronous and `src` may be changed as soon as the call returns; larger pageable sources
// go straight to cudaMemcpyAsync, which returns once CUDA has staged them itself. Pinned sources are used as is
// and must not change until the Promise resolves.
Napi::Value DeviceBuffer::UploadAsync(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  EnsureLive(env);
  ByteView src = BytesOf(env, info[0], "src");
  CudaStream& stream = CudaStream::From(env, info[1], "stream");
  size_t offset = OffsetArg(env, info, 2);
  CheckRange(env, offset, src.length, "uploadAsync");
  CheckStreamDevice(env, stream.device(), "uploadAsync");
  CudaApi& cuda = Cuda(env);
  auto keep = std::make_shared<Napi::ObjectReference>(Napi::Persistent(info[0].As<Napi::Object>()));
  std::shared_ptr<Staging> staging;
  return Guarded(env, [&]() -> Napi::Value {
    ScopedDevice on(device_);
    if (src.length > 0) {
      void const* from = src.data;
      if (src.length <= PinnedPool::kMaxStagingBytes && !IsPinnedHostPointer(src.data)) {
        staging = std::make_shared<Staging>(PinnedPool::Get().Acquire(src.length));
        std::memcpy(staging->block.ptr, src.data, src.length);
        from = staging->block.ptr;
      }
      CheckCuda(cuda.cudaMemcpyAsync(ptr_ + offset, from, src.length, cudaMemcpyHostToDevice, stream.handle()),
                "cudaMemcpyAsync (uploadAsync)");
    }
    ++pending_;
    Ref();
    try {
      return WhenComplete(env, stream.handle(), nullptr, nullptr, [this, env, keep, staging]() mutable {
        staging.reset();
        keep->Reset();
        OpFinished(env);
      });
    } catch (...) {
      // The copy may be in flight: the staging block is released only once the stream has drained.
      cuda.cudaStreamSynchronize(stream.handle());
      OpFinished(env);
      throw;
    }
  });
}

// downloadAsync(dst, stream, offset = 0): enqueued on `stream` now; dst is written by the time the Promise
// resolves and must not be touched before. Pageable destinations up to the staging limit receive the data from a
// pinned block on the completion thread; larger pageable destinations make cudaMemcpyAsync synchronous.
Napi::Value DeviceBuffer::DownloadAsync(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  EnsureLive(env);
  ByteView dst = BytesOf(env, info[0], "dst");
  CudaStream& stream = CudaStream::From(env, info[1], "stream");
  size_t offset = OffsetArg(env, info, 2);
  CheckRange(env, offset, dst.length, "downloadAsync");
  CheckStreamDevice(env, stream.device(), "downloadAsync");
  CudaApi& cuda = Cuda(env);
  auto keep = std::make_shared<Napi::ObjectReference>(Napi::Persistent(info[0].As<Napi::Object>()));
  std::shared_ptr<Staging> staging;
  CompletionQueue::OffThread offThread;
  return Guarded(env, [&]() -> Napi::Value {
    ScopedDevice on(device_);
    if (dst.length > 0) {
      void* to = dst.data;
      if (dst.length <= PinnedPool::kMaxStagingBytes && !IsPinnedHostPointer(dst.data)) {
        staging = std::make_shared<Staging>(PinnedPool::Get().Acquire(dst.length));
        to = staging->block.ptr;
        offThread = [staging, dst] { std::memcpy(dst.data, staging->block.ptr, dst.length); };
      }
      CheckCuda(cuda.cudaMemcpyAsync(to, ptr_ + offset, dst.length, cudaMemcpyDeviceToHost, stream.handle()),
                "cudaMemcpyAsync (downloadAsync)");
    }
    ++pending_;
    Ref();
    try {
      return WhenComplete(env, stream.handle(), std::move(offThread), nullptr, [this, env, keep, staging]() mutable {
        staging.reset();
        keep->Reset();
        OpFinished(env);
      });
    } catch (...) {
      cuda.cudaStreamSynchronize(stream.handle());
      OpFinished(env);
      throw;
    }
  });
}

Napi::Value DeviceBuffer::Dispose(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  if (!disposed_) {
    disposed_ = true;
    if (pending_ == 0) Free(env);
  }
  return env.Undefined();
}

Napi::Value DeviceBuffer::GetByteLength(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(size_));
}
Napi::Value DeviceBuffer::GetDeviceId(Napi::CallbackInfo const& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value DeviceBuffer::GetDisposed(Napi::CallbackInfo const& info) {
  return Napi::Boolean::New(info.Env(), disposed_);
}
Napi::Value DeviceBuffer::GetAddress(Napi::CallbackInfo const& info) {
  if (disposed_) throw CodedError(info.Env(), kCodeDisposed, "DeviceBuffer was used after dispose()");
  return BigIntPointer(info.Env(), ptr_);
}

}  // namespace trt_refit
