#include "cublas_api.h"

#include <dlfcn.h>

#include <cstdlib>

#include "common.h"
#include "cuda_api.h"

namespace trt_refit {

namespace {

std::vector<std::string> Candidates() {
  std::vector<std::string> out;
  if (char const* p = std::getenv("TRT_REFIT_CUBLAS_PATH"); p && *p) out.emplace_back(p);
  for (char const* soname : {"libcublas.so.13", "libcublas.so.12"}) {
    for (char const* var : {"CUDA_PATH", "CUDA_HOME"}) {
      if (char const* root = std::getenv(var); root && *root) out.push_back(Concat(root, "/lib64/", soname));
    }
    out.push_back(Concat("/usr/local/cuda/lib64/", soname));
    out.emplace_back(soname);
  }
  out.emplace_back("libcublas.so");
  return out;
}

}  // namespace

CublasApi& CublasApi::Get() {
  static CublasApi* instance = new CublasApi();  // leaked on purpose, like CudaApi
  return *instance;
}

CublasApi::CublasApi() {
  for (std::string const& c : Candidates()) {
    if (TryOpen(c)) return;
  }
}

bool CublasApi::TryOpen(std::string const& candidate) {
  dlerror();
  void* h = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    char const* err = dlerror();
    std::string reason = err ? err : "cannot be opened";
    loadErrors_.push_back(reason.rfind(candidate, 0) == 0 ? reason : Concat(candidate, ": ", reason));
    return false;
  }
  std::vector<std::string> missing;
#define TRT_REFIT_CUBLAS_RESOLVE(fn, ...)                      \
  fn = reinterpret_cast<fn##_fn>(dlsym(h, #fn));               \
  if (!fn) missing.emplace_back(#fn);
  TRT_REFIT_CUBLAS_FUNCTIONS(TRT_REFIT_CUBLAS_RESOLVE)
#undef TRT_REFIT_CUBLAS_RESOLVE
  if (!missing.empty()) {
    std::string names;
    for (auto const& m : missing) names += (names.empty() ? "" : ", ") + m;
    loadErrors_.push_back(Concat(candidate, ": opened, but lacks ", names));
    dlclose(h);
    return false;
  }
  handle_ = h;
  path_ = candidate;
  return true;
}

std::string CublasApi::WhyUnavailable() const {
  std::string why = "cuBLAS could not be loaded (needed by the LoRA merge on the device; install libcublas or set TRT_REFIT_CUBLAS_PATH):";
  for (auto const& e : loadErrors_) why += "\n  " + e;
  return why;
}

std::string CublasApi::Describe(cublasStatus_t s) {
  char const* name = "CUBLAS_STATUS_UNKNOWN";
  switch (s) {
    case 0: name = "CUBLAS_STATUS_SUCCESS"; break;
    case 1: name = "CUBLAS_STATUS_NOT_INITIALIZED"; break;
    case 3: name = "CUBLAS_STATUS_ALLOC_FAILED"; break;
    case 7: name = "CUBLAS_STATUS_INVALID_VALUE"; break;
    case 8: name = "CUBLAS_STATUS_ARCH_MISMATCH"; break;
    case 11: name = "CUBLAS_STATUS_MAPPING_ERROR"; break;
    case 13: name = "CUBLAS_STATUS_EXECUTION_FAILED"; break;
    case 14: name = "CUBLAS_STATUS_INTERNAL_ERROR"; break;
    case 15: name = "CUBLAS_STATUS_NOT_SUPPORTED"; break;
    case 16: name = "CUBLAS_STATUS_LICENSE_ERROR"; break;
    default: break;
  }
  return Concat(name, " (", s, ")");
}

void CheckCublas(cublasStatus_t s, char const* what) {
  if (s == kCublasSuccess) return;
  throw NativeFailure{kCodeDevice, Concat(what, " failed: ", CublasApi::Describe(s))};
}

cublasHandle_t CublasApi::HandleFor(int device, cudaStream_t stream) {
  if (!loaded()) throw NativeFailure{kCodeUnavailable, WhyUnavailable()};
  auto it = handles_.find(device);
  if (it == handles_.end()) {
    ScopedDevice on(device);
    cublasHandle_t h = nullptr;
    CheckCublas(cublasCreate_v2(&h), "cublasCreate");
    cublasStatus_t s = cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH);
    if (s != kCublasSuccess) {
      cublasDestroy_v2(h);
      CheckCublas(s, "cublasSetMathMode(CUBLAS_PEDANTIC_MATH)");
    }
    it = handles_.emplace(device, h).first;
  }
  CheckCublas(cublasSetStream_v2(it->second, stream), "cublasSetStream");
  return it->second;
}

}  // namespace trt_refit
