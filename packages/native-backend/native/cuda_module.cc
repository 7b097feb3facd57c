// `binding.cuda`: loading status, device queries, and factories of the CUDA classes.
#include "cuda_module.h"

#include <mutex>
#include <unordered_map>

#include "common.h"
#include "cuda_api.h"
#include "cuda_loaded.h"
#include "cuda_stream.h"
#include "device_buffer.h"
#include "lora_merge.h"
#include "pinned_pool.h"

namespace trt_refit {

namespace {

CudaApi& Cuda(Napi::Env env) {
  CudaApi& cuda = CudaApi::Get();
  if (!cuda.loaded()) {
    std::string why;
    for (auto const& e : cuda.loadErrors()) why += "\n  " + e;
    throw CodedError(env, kCodeUnavailable, Concat("the CUDA ", CudaApi::headerMajor(), " runtime could not be loaded:", why));
  }
  return cuda;
}

std::string VersionText(int v) { return Concat(v / 1000, ".", (v % 1000) / 10); }

// status(): never throws; says what was found, for `trt-refit doctor`.
Napi::Value Status(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  CudaApi& cuda = CudaApi::Get();
  Napi::Object out = Napi::Object::New(env);
  out.Set("headerVersion", VersionText(CUDART_VERSION));
  out.Set("loaded", cuda.loaded());
  Napi::Array errors = Napi::Array::New(env);
  for (auto const& e : cuda.loadErrors()) errors.Set(errors.Length(), e);
  out.Set("loadErrors", errors);
  if (!cuda.loaded()) return out;
  out.Set("path", cuda.path());
  int runtime = 0, driver = 0, count = 0;
  if (cuda.cudaRuntimeGetVersion(&runtime) == cudaSuccess) out.Set("runtimeVersion", VersionText(runtime));
  // The driver version is 0 when no driver is installed.
  if (cuda.cudaDriverGetVersion(&driver) == cudaSuccess) out.Set("driverVersion", driver ? VersionText(driver) : "none");
  cudaError_t e = cuda.cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cuda.cudaGetLastError();
    out.Set("deviceCount", 0);
    out.Set("deviceError", Concat("cudaGetDeviceCount: ", cuda.Describe(e)));
  } else {
    out.Set("deviceCount", count);
  }
  return out;
}

Napi::Value DeviceCount(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  int count = 0;
  Guarded(env, [&] { CheckCuda(Cuda(env).cudaGetDeviceCount(&count), "cudaGetDeviceCount"); });
  return Napi::Number::New(env, count);
}

Napi::Value GetDevice(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  int device = 0;
  Guarded(env, [&] { CheckCuda(Cuda(env).cudaGetDevice(&device), "cudaGetDevice"); });
  return Napi::Number::New(env, device);
}

Napi::Value SetDevice(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  int device = static_cast<int>(SizeArg(env, info[0], "deviceId"));
  Guarded(env, [&] { CheckCuda(Cuda(env).cudaSetDevice(device), "cudaSetDevice"); });
  return env.Undefined();
}

Napi::Value DeviceProperties(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  int device = static_cast<int>(SizeArg(env, info[0], "deviceId"));
  cudaDeviceProp p{};
  Guarded(env, [&] { CheckCuda(Cuda(env).cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties"); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", std::string(p.name));
  out.Set("computeCapability", Concat(p.major, ".", p.minor));
  out.Set("totalMemory", static_cast<double>(p.totalGlobalMem));
  out.Set("multiProcessorCount", p.multiProcessorCount);
  out.Set("pciBusId", Concat(p.pciDomainID, ":", p.pciBusID, ":", p.pciDeviceID));
  return out;
}

// memGetInfo(device?): of `device`, else of the current device.
Napi::Value MemGetInfo(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  size_t freeBytes = 0, total = 0;
  Cuda(env);
  int device = DeviceArg(env, info[0], "deviceId");
  Guarded(env, [&] {
    ScopedDevice on(device);
    CheckCuda(Cuda(env).cudaMemGetInfo(&freeBytes, &total), "cudaMemGetInfo");
  });
  Napi::Object out = Napi::Object::New(env);
  out.Set("free", static_cast<double>(freeBytes));
  out.Set("total", static_cast<double>(total));
  return out;
}

Napi::Value Allocate(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Cuda(env);
  return AddonData::Of(env).Constructor(env, "DeviceBuffer").New({info[0], info[1]});
}

Napi::Value CreateStream(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Cuda(env);
  return AddonData::Of(env).Constructor(env, "CudaStream").New({info[0]});
}

Napi::Value CreateEvent(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Cuda(env);
  return AddonData::Of(env).Constructor(env, "CudaEvent").New({Napi::Boolean::New(env, info[0].ToBoolean().Value()), info[1]});
}

// Pinned allocations lent to JS, by address, so freePinned can free one before its ArrayBuffer is collected.
struct PinnedLoan {
  void* ptr;
  size_t size;
  bool freed = false;
};
std::mutex pinnedMutex;
std::unordered_map<void*, PinnedLoan*>& PinnedLoans() {
  static auto* loans = new std::unordered_map<void*, PinnedLoan*>();  // leaked: finalizers may run at exit
  return *loans;
}

// allocatePinned(byteLength): an ArrayBuffer over cudaHostAlloc'ed memory (portable: every device copies from it
// without staging), freed by freePinned or else by its finalizer.
Napi::Value AllocatePinned(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  size_t n = SizeArg(env, info[0], "byteLength");
  CudaApi& cuda = Cuda(env);
  void* p = nullptr;
  Guarded(env, [&] { CheckCuda(cuda.cudaHostAlloc(&p, n > 0 ? n : 1, cudaHostAllocPortable), "cudaHostAlloc"); });
  auto* loan = new PinnedLoan{p, n};
  try {
    std::lock_guard<std::mutex> lock(pinnedMutex);
    PinnedLoans()[p] = loan;
  } catch (...) {
    delete loan;
    cuda.cudaFreeHost(p);
    throw;
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(n));
  return Napi::ArrayBuffer::New(
      env, p, n,
      [](Napi::Env finalizerEnv, void*, PinnedLoan* l) {
        if (!l->freed) {
          {
            std::lock_guard<std::mutex> lock(pinnedMutex);
            PinnedLoans().erase(l->ptr);
          }
          CudaApi::Get().cudaFreeHost(l->ptr);
          Napi::MemoryManagement::AdjustExternalMemory(finalizerEnv, -static_cast<int64_t>(l->size));
        }
        delete l;
      },
      loan);
}

// freePinned(arrayBuffer): frees memory of allocatePinned now and detaches the ArrayBuffer (its views read as
// empty); false when it was already freed. No copy from or into it may be in flight. TypeError for any other
// ArrayBuffer.
Napi::Value FreePinned(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TRT_REFIT_TYPE_CHECK(info[0].IsArrayBuffer(), env, "buffer must be an ArrayBuffer returned by allocatePinned");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  if (ab.IsDetached()) return Napi::Boolean::New(env, false);
  PinnedLoan* loan = nullptr;
  {
    std::lock_guard<std::mutex> lock(pinnedMutex);
    auto it = PinnedLoans().find(ab.Data());
    if (it != PinnedLoans().end() && it->second->size == ab.ByteLength()) loan = it->second;
  }
  TRT_REFIT_TYPE_CHECK(loan != nullptr, env, "buffer must be an ArrayBuffer returned by allocatePinned");
  ab.Detach();
  {
    std::lock_guard<std::mutex> lock(pinnedMutex);
    PinnedLoans().erase(loan->ptr);
  }
  loan->freed = true;
  CudaApi::Get().cudaFreeHost(loan->ptr);
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(loan->size));
  return Napi::Boolean::New(env, true);
}

Napi::Value IsPinned(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  ByteView v = BytesOf(env, info[0], "view");
  Cuda(env);
  return Napi::Boolean::New(env, v.length > 0 && IsPinnedHostPointer(v.data));
}

Napi::Value StagingBytes(Napi::CallbackInfo const& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(PinnedPool::Get().retainedBytes()));
}

class SynchronizeDeviceWorker : public Napi::AsyncWorker {
 public:
  SynchronizeDeviceWorker(Napi::Env env, int device)
      : Napi::AsyncWorker(env, "trt-refit:cudaDeviceSynchronize"), deferred_(Napi::Promise::Deferred::New(env)), device_(device) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    CudaApi& cuda = CudaApi::Get();
    cudaError_t e = cuda.cudaSetDevice(device_);
    if (e == cudaSuccess) e = cuda.cudaDeviceSynchronize();
    if (e != cudaSuccess) SetError(Concat("cudaDeviceSynchronize failed: ", cuda.Describe(e)));
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(Napi::Error const& e) override {
    e.Set("code", Napi::String::New(Env(), kCodeDevice));
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int device_;
};

// synchronizeDevice(device?): of `device`, else of the current device.
Napi::Value SynchronizeDevice(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Cuda(env);
  int device = DeviceArg(env, info[0], "deviceId");
  auto* w = new SynchronizeDeviceWorker(env, device);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

Napi::Object CreateCudaModule(Napi::Env env, AddonData& data) {
  DeviceBuffer::Init(env, data);
  CudaStream::Init(env, data);
  CudaEvent::Init(env, data);
  Napi::Object m = Napi::Object::New(env);
  m.Set("status", Napi::Function::New<Status>(env, "status"));
  m.Set("deviceCount", Napi::Function::New<DeviceCount>(env, "deviceCount"));
  m.Set("getDevice", Napi::Function::New<GetDevice>(env, "getDevice"));
  m.Set("setDevice", Napi::Function::New<SetDevice>(env, "setDevice"));
  m.Set("deviceProperties", Napi::Function::New<DeviceProperties>(env, "deviceProperties"));
  m.Set("memGetInfo", Napi::Function::New<MemGetInfo>(env, "memGetInfo"));
  m.Set("allocate", Napi::Function::New<Allocate>(env, "allocate"));
  m.Set("allocatePinned", Napi::Function::New<AllocatePinned>(env, "allocatePinned"));
  m.Set("freePinned", Napi::Function::New<FreePinned>(env, "freePinned"));
  m.Set("isPinned", Napi::Function::New<IsPinned>(env, "isPinned"));
  m.Set("createStream", Napi::Function::New<CreateStream>(env, "createStream"));
  m.Set("createEvent", Napi::Function::New<CreateEvent>(env, "createEvent"));
  m.Set("synchronizeDevice", Napi::Function::New<SynchronizeDevice>(env, "synchronizeDevice"));
  m.Set("stagingBytes", Napi::Function::New<StagingBytes>(env, "stagingBytes"));
  m.Set("loraMerge", Napi::Function::New<LoraMerge>(env, "loraMerge"));
  m.Set("loraStatus", Napi::Function::New<LoraStatus>(env, "loraStatus"));
  m.Set("DeviceBuffer", data.Constructor(env, "DeviceBuffer"));
  m.Set("CudaStream", data.Constructor(env, "CudaStream"));
  m.Set("CudaEvent", data.Constructor(env, "CudaEvent"));
  return m;
}

}  // namespace trt_refit
