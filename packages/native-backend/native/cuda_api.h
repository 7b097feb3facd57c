// The CUDA runtime, opened with dlopen rather than linked: the addon then loads on machines without CUDA, and
// `trt-refit doctor` can say exactly what is missing instead of the process failing to load a shared object.
// Only the runtime's major version must match the headers it was compiled against (the ABI of cudaDeviceProp and
// the error enum is per major).
#pragma once

#include <cuda_runtime_api.h>

#include <mutex>
#include <string>
#include <vector>

#define TRT_REFIT_STR2(x) #x
#define TRT_REFIT_STR(x) TRT_REFIT_STR2(x)

// X(name): every CUDA runtime function the addon calls. Names go through TRT_REFIT_STR so that header macros
// (per-thread default stream variants, _v2 suffixes) resolve to the symbol the library really exports.
#define TRT_REFIT_CUDA_FUNCTIONS(X) \
  X(cudaGetErrorName)               \
  X(cudaGetErrorString)             \
  X(cudaGetLastError)               \
  X(cudaRuntimeGetVersion)          \
  X(cudaDriverGetVersion)           \
  X(cudaGetDeviceCount)             \
  X(cudaGetDevice)                  \
  X(cudaSetDevice)                  \
  X(cudaDeviceGetAttribute)         \
  X(cudaGetDeviceProperties)        \
  X(cudaDeviceSynchronize)          \
  X(cudaMemGetInfo)                 \
  X(cudaMalloc)                     \
  X(cudaFree)                       \
  X(cudaMemcpy)                     \
  X(cudaMemcpyAsync)                \
  X(cudaMemsetAsync)                \
  X(cudaHostAlloc)                  \
  X(cudaFreeHost)                   \
  X(cudaPointerGetAttributes)       \
  X(cudaStreamCreateWithFlags)      \
  X(cudaStreamDestroy)              \
  X(cudaStreamSynchronize)          \
  X(cudaStreamQuery)                \
  X(cudaStreamWaitEvent)            \
  X(cudaEventCreateWithFlags)       \
  X(cudaEventDestroy)               \
  X(cudaEventRecord)                \
  X(cudaEventSynchronize)           \
  X(cudaEventQuery)                 \
  X(cudaEventElapsedTime)

// X(name): functions only the LoRA merge's kernels need (CUDA 12.0+). A runtime without them still loads; the
// merge of HALF / BF16 weights then fails with an error naming what is missing.
#define TRT_REFIT_CUDA_OPTIONAL_FUNCTIONS(X) \
  X(cudaLibraryLoadData)                     \
  X(cudaLibraryGetKernel)                    \
  X(cudaLaunchKernel)

namespace trt_refit {

class CudaApi {
 public:
  // The process-wide instance; the first call tries to open the runtime (never throws).
  static CudaApi& Get();

  bool loaded() const { return handle_ != nullptr; }
  std::string const& path() const { return path_; }
  // One line per candidate that failed to open, with dlerror's reason.
  std::vector<std::string> const& loadErrors() const { return loadErrors_; }
  // Major version of the runtime the addon was compiled against (CUDART_VERSION / 1000).
  static int headerMajor() { return CUDART_VERSION / 1000; }

  // "cudaErrorMemoryAllocation (out of memory)".
  std::string Describe(cudaError_t e) const;

#define TRT_REFIT_DECLARE(fn) decltype(&::fn) fn = nullptr;
  TRT_REFIT_CUDA_FUNCTIONS(TRT_REFIT_DECLARE)
  TRT_REFIT_CUDA_OPTIONAL_FUNCTIONS(TRT_REFIT_DECLARE)
#undef TRT_REFIT_DECLARE
  // Names of TRT_REFIT_CUDA_OPTIONAL_FUNCTIONS the loaded runtime lacks.
  std::vector<std::string> const& missingOptional() const { return missingOptional_; }

 private:
  CudaApi();
  bool TryOpen(std::string const& candidate);
  void* handle_ = nullptr;
  std::string path_;
  std::vector<std::string> loadErrors_;
  std::vector<std::string> missingOptional_;
};

// Throws NativeFailure{kCodeDevice} naming the call when `e` is an error (usable on any thread).
void CheckCuda(cudaError_t e, char const* what);

// Makes `device` the calling thread's current device for its scope and restores the previous one after, so an
// operation on a buffer or stream of one GPU never changes which device later allocations without a device go to.
// Throws NativeFailure when the device cannot be made current.
class ScopedDevice {
 public:
  explicit ScopedDevice(int device);
  ~ScopedDevice();
  ScopedDevice(ScopedDevice const&) = delete;
  ScopedDevice& operator=(ScopedDevice const&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace trt_refit
