// cuBLAS, opened with dlopen like the CUDA runtime (cuda_api.h): the addon links nothing and needs no cuBLAS
// header to build (the few types and values used are declared here, with the numbers of NVIDIA's cublas_api.h,
// stable since CUDA 11). Loaded on first use: libcublas.so.13, then .12, then libcublas.so (or
// TRT_REFIT_CUBLAS_PATH first), so a machine without cuBLAS loses only the LoRA merge, with a typed error naming
// every candidate tried.
#pragma once

#include <cuda_runtime_api.h>
#include <library_types.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace trt_refit {

// From cublas_api.h (values fixed by NVIDIA's ABI).
using cublasHandle_t = struct cublasContext*;
using cublasStatus_t = int;
constexpr cublasStatus_t kCublasSuccess = 0;
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum cublasMath_t { CUBLAS_DEFAULT_MATH = 0, CUBLAS_PEDANTIC_MATH = 2 };
enum cublasComputeType_t { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_PEDANTIC = 69 };
enum cublasGemmAlgo_t { CUBLAS_GEMM_DEFAULT = -1 };

#define TRT_REFIT_CUBLAS_FUNCTIONS(X)                                                                              \
  X(cublasCreate_v2, cublasStatus_t (*)(cublasHandle_t*))                                                          \
  X(cublasDestroy_v2, cublasStatus_t (*)(cublasHandle_t))                                                          \
  X(cublasSetStream_v2, cublasStatus_t (*)(cublasHandle_t, cudaStream_t))                                          \
  X(cublasSetMathMode, cublasStatus_t (*)(cublasHandle_t, cublasMath_t))                                           \
  X(cublasGetVersion_v2, cublasStatus_t (*)(cublasHandle_t, int*))                                                 \
  X(cublasGemmEx, cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,          \
                                     void const*, void const*, cudaDataType_t, int, void const*, cudaDataType_t,   \
                                     int, void const*, void*, cudaDataType_t, int, cublasComputeType_t,            \
                                     cublasGemmAlgo_t))

class CublasApi {
 public:
  // The process-wide instance; the first call tries to open cuBLAS (never throws).
  static CublasApi& Get();

  bool loaded() const { return handle_ != nullptr; }
  std::string const& path() const { return path_; }
  std::vector<std::string> const& loadErrors() const { return loadErrors_; }
  // "cuBLAS could not be loaded: <every candidate and why>", for errors.
  std::string WhyUnavailable() const;
  // "CUBLAS_STATUS_INVALID_VALUE (7)".
  static std::string Describe(cublasStatus_t s);

  // The handle of `device` (created on first use, with pedantic FP32 math: no TF32), set to `stream`. The caller
  // holds `lock()` from SetStream to its last call on the handle, since one handle serves every stream of the device.
  // Throws NativeFailure{kCodeDevice} when cuBLAS fails, {kCodeUnavailable} when it is not loaded.
  cublasHandle_t HandleFor(int device, cudaStream_t stream);
  std::mutex& lock() { return mutex_; }

#define TRT_REFIT_CUBLAS_DECLARE(fn, ...) \
  using fn##_fn = __VA_ARGS__;            \
  fn##_fn fn = nullptr;
  TRT_REFIT_CUBLAS_FUNCTIONS(TRT_REFIT_CUBLAS_DECLARE)
#undef TRT_REFIT_CUBLAS_DECLARE

 private:
  CublasApi();
  bool TryOpen(std::string const& candidate);
  void* handle_ = nullptr;
  std::string path_;
  std::vector<std::string> loadErrors_;
  std::mutex mutex_;
  std::map<int, cublasHandle_t> handles_;  // never destroyed: finalizers may merge after static destructors ran
};

// Throws NativeFailure{kCodeDevice} naming the call when `s` is not CUBLAS_STATUS_SUCCESS.
void CheckCublas(cublasStatus_t s, char const* what);

}  // namespace trt_refit
