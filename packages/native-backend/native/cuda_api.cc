#include "cuda_api.h"

#include <dlfcn.h>

#include <cstdlib>

#include "common.h"

namespace trt_refit {

namespace {

std::vector<std::string> Candidates() {
  std::string const soname = Concat("libcudart.so.", CudaApi::headerMajor());
  std::vector<std::string> out;
  // An explicit file wins; then the toolkit roots the build script also honours; then the loader's search path
  // (LD_LIBRARY_PATH, ldconfig), which is where a driver-only install with a pip-installed runtime puts it.
  if (char const* p = std::getenv("TRT_REFIT_CUDART_PATH"); p && *p) out.emplace_back(p);
  for (char const* var : {"CUDA_PATH", "CUDA_HOME"}) {
    if (char const* root = std::getenv(var); root && *root) {
      out.push_back(Concat(root, "/lib64/", soname));
      out.push_back(Concat(root, "/lib/", soname));
    }
  }
  out.push_back(Concat("/usr/local/cuda/lib64/", soname));
  out.push_back(soname);
  return out;
}

}  // namespace

CudaApi& CudaApi::Get() {
  // Leaked on purpose: streams and buffers may be released by finalizers after static destructors ran.
  static CudaApi* instance = new CudaApi();
  return *instance;
}

CudaApi::CudaApi() {
  for (std::string const& c : Candidates()) {
    if (TryOpen(c)) return;
  }
}

bool CudaApi::TryOpen(std::string const& candidate) {
  dlerror();
  void* h = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    char const* err = dlerror();
    // dlerror usually starts with the file name already.
    std::string reason = err ? err : "cannot be opened";
    loadErrors_.push_back(reason.rfind(candidate, 0) == 0 ? reason : Concat(candidate, ": ", reason));
    return false;
  }
  std::vector<std::string> missing;
#define TRT_REFIT_RESOLVE(fn)                                                          \
  fn = reinterpret_cast<decltype(fn)>(dlsym(h, TRT_REFIT_STR(fn)));                    \
  if (!fn) missing.emplace_back(TRT_REFIT_STR(fn));
  TRT_REFIT_CUDA_FUNCTIONS(TRT_REFIT_RESOLVE)
#undef TRT_REFIT_RESOLVE
  if (!missing.empty()) {
    std::string names;
    for (auto const& m : missing) names += (names.empty() ? "" : ", ") + m;
    loadErrors_.push_back(Concat(candidate, ": opened, but lacks ", names, " (not a CUDA ", headerMajor(), " runtime?)"));
    dlclose(h);
    return false;
  }
#define TRT_REFIT_RESOLVE_OPTIONAL(fn)                                                 \
  fn = reinterpret_cast<decltype(fn)>(dlsym(h, TRT_REFIT_STR(fn)));                    \
  if (!fn) missingOptional_.emplace_back(TRT_REFIT_STR(fn));
  TRT_REFIT_CUDA_OPTIONAL_FUNCTIONS(TRT_REFIT_RESOLVE_OPTIONAL)
#undef TRT_REFIT_RESOLVE_OPTIONAL
  handle_ = h;
  // dlinfo would give the resolved file; the candidate is what the user can act on.
  path_ = candidate;
  return true;
}

std::string CudaApi::Describe(cudaError_t e) const {
  if (!loaded()) return Concat("CUDA error ", static_cast<int>(e));
  return Concat(cudaGetErrorName(e), " (", cudaGetErrorString(e), ")");
}

void CheckCuda(cudaError_t e, char const* what) {
  if (e == cudaSuccess) return;
  CudaApi& api = CudaApi::Get();
  // Clear the non-sticky error so it is not reported again by the next unrelated call.
  if (api.loaded()) api.cudaGetLastError();
  throw NativeFailure{kCodeDevice, Concat(what, " failed: ", api.Describe(e))};
}

ScopedDevice::ScopedDevice(int device) {
  CudaApi& api = CudaApi::Get();
  int current = -1;
  CheckCuda(api.cudaGetDevice(&current), "cudaGetDevice");
  if (current != device) {
    CheckCuda(api.cudaSetDevice(device), "cudaSetDevice");
    previous_ = current;
  }
}

ScopedDevice::~ScopedDevice() {
  if (previous_ >= 0) CudaApi::Get().cudaSetDevice(previous_);
}

}  // namespace trt_refit
