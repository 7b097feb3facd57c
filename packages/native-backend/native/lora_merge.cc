#include "lora_merge.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <mutex>
#include <vector>

#include "common.h"
#include "completion_queue.h"
#include "cublas_api.h"
#include "cuda_loaded.h"
#include "cuda_stream.h"
#include "device_buffer.h"
#include "lora_kernels_ptx.h"

namespace trt_refit {

namespace {

// The weight types, as the TS side numbers them.
enum WeightType : size_t { kFloat = 0, kHalf = 1, kBf16 = 2 };

struct Factor {
  DeviceBuffer* a;
  DeviceBuffer* b;
  int rank;
  float alpha;
};

// The kernels of lora_kernels_ptx.h, loaded once per process (a cudaLibrary_t is loaded into every context).
struct Kernels {
  cudaKernel_t addF16 = nullptr;
  cudaKernel_t addBf16 = nullptr;
};

Kernels const& LoadKernels() {
  static std::mutex mutex;
  static Kernels* kernels = nullptr;  // leaked: in use until the process ends
  std::lock_guard<std::mutex> lock(mutex);
  if (kernels) return *kernels;
  CudaApi& cuda = CudaApi::Get();
  if (!cuda.missingOptional().empty()) {
    std::string names;
    for (auto const& m : cuda.missingOptional()) names += (names.empty() ? "" : ", ") + m;
    throw NativeFailure{kCodeUnavailable, Concat("the LoRA merge of HALF / BF16 weights needs ", names,
                                                 " of the CUDA runtime (CUDA 12.0 or newer); ", cuda.path(), " lacks them")};
  }
  char log[4096] = {0};
  cudaJitOption options[] = {cudaJitErrorLogBuffer, cudaJitErrorLogBufferSizeBytes};
  void* values[] = {log, reinterpret_cast<void*>(static_cast<uintptr_t>(sizeof log))};
  cudaLibrary_t library = nullptr;
  cudaError_t e = cuda.cudaLibraryLoadData(&library, kLoraKernelsPtx, options, values, 2, nullptr, nullptr, 0);
  if (e != cudaSuccess) {
    cuda.cudaGetLastError();
    throw NativeFailure{kCodeDevice, Concat("cudaLibraryLoadData (the LoRA merge's PTX kernels) failed: ", cuda.Describe(e),
                                            log[0] ? Concat("; JIT log: ", log) : std::string())};
  }
  auto* k = new Kernels();
  CheckCuda(cuda.cudaLibraryGetKernel(&k->addF16, library, "trt_refit_lora_add_f16"), "cudaLibraryGetKernel(trt_refit_lora_add_f16)");
  CheckCuda(cuda.cudaLibraryGetKernel(&k->addBf16, library, "trt_refit_lora_add_bf16"), "cudaLibraryGetKernel(trt_refit_lora_add_bf16)");
  kernels = k;
  return *kernels;
}

bool Overlap(DeviceBuffer const* x, DeviceBuffer const* y) {
  if (x->size() == 0 || y->size() == 0) return false;
  auto const* xs = static_cast<uint8_t const*>(x->data());
  auto const* ys = static_cast<uint8_t const*>(y->data());
  return xs < ys + y->size() && ys < xs + x->size();
}

int IntArg(Napi::Env env, Napi::Value v, char const* parameter) {
  size_t n = SizeArg(env, v, parameter);
  TRT_REFIT_RANGE_CHECK(n <= static_cast<size_t>(INT_MAX), env, parameter, " must be at most ", INT_MAX,
                        " (cuBLAS takes int dimensions), received ", n);
  return static_cast<int>(n);
}

// One cublasGemmEx, in cuBLAS's column-major terms (see LoraMerge): C (+)= alpha · op(A) · op(B), all FP32.
void Gemm(cublasHandle_t h, bool transposed, int rows, int cols, Factor const& f, float beta, void* c) {
  CublasApi& blas = CublasApi::Get();
  float const alpha = f.alpha;
  cublasStatus_t s;
  if (!transposed) {
    // Row-major W [rows, cols] is column-major (cols × rows): Wᵀ += Aᵀ · Bᵀ, where the row-major A [r, cols] is the
    // column-major Aᵀ (cols × r, ld cols) and the row-major B [rows, r] the column-major Bᵀ (r × rows, ld r).
    s = blas.cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, cols, rows, f.rank, &alpha, f.a->data(), CUDA_R_32F, cols,
                          f.b->data(), CUDA_R_32F, f.rank, &beta, c, CUDA_R_32F, cols, CUBLAS_COMPUTE_32F_PEDANTIC,
                          CUBLAS_GEMM_DEFAULT);
  } else {
    // W stored transposed, row-major [cols, rows], is the column-major W (rows × cols): W += B · A with both
    // operands read transposed (op T), so nothing is copied.
    s = blas.cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_T, rows, cols, f.rank, &alpha, f.b->data(), CUDA_R_32F, f.rank,
                          f.a->data(), CUDA_R_32F, cols, &beta, c, CUDA_R_32F, rows, CUBLAS_COMPUTE_32F_PEDANTIC,
                          CUBLAS_GEMM_DEFAULT);
  }
  CheckCublas(s, "cublasGemmEx");
}

}  // namespace

// loraMerge({ out, base, type, rows, cols, transposed, factors: [{ a, b, rank, alpha }], workspace, stream }):
// everything enqueued on `stream` before returning; the Promise resolves once it completed. FLOAT: `base` copied
// into `out` (unless they are one buffer), then one GEMM per factor with beta 1 into `out`. HALF / BF16: the
// factors' products summed in the FP32 `workspace` (rows·cols floats; GEMMs with beta 0, then 1), then one kernel
// out = round(base + workspace). `base` is only read unless it is `out`. Arguments are checked again here
// (the TS side checks them first), so nothing reaches CUDA out of range.
Napi::Value LoraMerge(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  TRT_REFIT_TYPE_CHECK(info[0].IsObject(), env, "spec must be an object");
  Napi::Object spec = info[0].As<Napi::Object>();
  CudaApi& cuda = LoadedCuda(env);
  CudaStream& stream = CudaStream::From(env, spec.Get("stream"), "stream");
  DeviceBuffer& out = DeviceBuffer::From(env, spec.Get("out"), "out");
  DeviceBuffer& base = DeviceBuffer::From(env, spec.Get("base"), "base");
  size_t const type = SizeArg(env, spec.Get("type"), "type");
  TRT_REFIT_RANGE_CHECK(type <= kBf16, env, "type must be 0 (FLOAT), 1 (HALF) or 2 (BF16), received ", type);
  int const rows = IntArg(env, spec.Get("rows"), "rows");
  int const cols = IntArg(env, spec.Get("cols"), "cols");
  bool const transposed = spec.Get("transposed").ToBoolean().Value();
  size_t const count = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  size_t const bytes = count * (type == kFloat ? 4 : 2);
  int const device = stream.device();
  std::vector<DeviceBuffer*> used;
  auto check = [&](DeviceBuffer& b, char const* name, size_t need) {
    TRT_REFIT_RANGE_CHECK(b.size() >= need, env, name, " must hold at least ", need, " bytes, received a buffer of ",
                          b.size());
    TRT_REFIT_RANGE_CHECK(b.device() == device, env, name, " belongs to device ", b.device(), " but the stream to device ",
                          device, "; use buffers and a stream of one device");
    used.push_back(&b);
  };
  check(out, "out", bytes);
  check(base, "base", bytes);
  TRT_REFIT_RANGE_CHECK(&out == &base || !Overlap(&out, &base), env, "out and base must be one buffer or disjoint");

  Napi::Value fv = spec.Get("factors");
  TRT_REFIT_TYPE_CHECK(fv.IsArray(), env, "factors must be an array");
  Napi::Array fa = fv.As<Napi::Array>();
  std::vector<Factor> factors;
  for (uint32_t i = 0; i < fa.Length(); ++i) {
    Napi::Value v = fa.Get(i);
    TRT_REFIT_TYPE_CHECK(v.IsObject(), env, "factors[", i, "] must be an object");
    Napi::Object o = v.As<Napi::Object>();
    Factor f{&DeviceBuffer::From(env, o.Get("a"), "factors[].a"), &DeviceBuffer::From(env, o.Get("b"), "factors[].b"),
             IntArg(env, o.Get("rank"), "factors[].rank"), 0.0f};
    Napi::Value alpha = o.Get("alpha");
    TRT_REFIT_TYPE_CHECK(alpha.IsNumber(), env, "factors[", i, "].alpha must be a number");
    double const ad = alpha.As<Napi::Number>().DoubleValue();
    TRT_REFIT_RANGE_CHECK(std::isfinite(ad), env, "factors[", i, "].alpha must be finite, received ", ad);
    f.alpha = static_cast<float>(ad);
    if (f.rank == 0) continue;
    check(*f.a, "factors[].a", static_cast<size_t>(f.rank) * cols * 4);
    check(*f.b, "factors[].b", static_cast<size_t>(rows) * f.rank * 4);
    for (DeviceBuffer* x : {f.a, f.b}) {
      TRT_REFIT_RANGE_CHECK(!Overlap(x, &out) && !Overlap(x, &base), env, "factors[", i,
                            "]: a factor buffer must not be out or base");
    }
    factors.push_back(f);
  }
  bool const gemm = !factors.empty() && count > 0;
  DeviceBuffer* workspace = nullptr;
  if (type != kFloat && gemm) {
    Napi::Value wv = spec.Get("workspace");
    TRT_REFIT_TYPE_CHECK(!wv.IsUndefined() && !wv.IsNull(), env,
                         "workspace must be a DeviceBuffer of rows * cols FP32 values for HALF and BF16 weights");
    workspace = &DeviceBuffer::From(env, wv, "workspace");
    check(*workspace, "workspace", count * 4);
    TRT_REFIT_RANGE_CHECK(!Overlap(workspace, &out) && !Overlap(workspace, &base), env,
                          "workspace must not be out or base");
    for (Factor const& f : factors) {
      TRT_REFIT_RANGE_CHECK(!Overlap(workspace, f.a) && !Overlap(workspace, f.b), env,
                            "workspace must not be a factor buffer");
    }
  }

  return Guarded(env, [&]() -> Napi::Value {
    ScopedDevice on(device);
    cudaStream_t s = stream.handle();
    Kernels const* kernels = (type != kFloat && gemm) ? &LoadKernels() : nullptr;
    if (gemm && !CublasApi::Get().loaded()) throw NativeFailure{kCodeUnavailable, CublasApi::Get().WhyUnavailable()};
    if ((type == kFloat || !gemm) && &out != &base && bytes > 0) {
      CheckCuda(cuda.cudaMemcpyAsync(out.data(), base.data(), bytes, cudaMemcpyDeviceToDevice, s),
                "cudaMemcpyAsync (LoRA merge: base to out)");
    }
    if (gemm) {
      CublasApi& blas = CublasApi::Get();
      std::lock_guard<std::mutex> lock(blas.lock());
      cublasHandle_t h = blas.HandleFor(device, s);
      void* c = type == kFloat ? out.data() : workspace->data();
      for (size_t i = 0; i < factors.size(); ++i) {
        Gemm(h, transposed, rows, cols, factors[i], type == kFloat || i > 0 ? 1.0f : 0.0f, c);
      }
    }
    if (kernels) {
      void const* basePtr = base.data();
      void const* deltaPtr = workspace->data();
      void* outPtr = out.data();
      unsigned long long n = count;
      void* args[] = {&basePtr, &deltaPtr, &outPtr, &n};
      unsigned const threads = 256;
      size_t const blocks = std::min<size_t>((count + threads - 1) / threads, size_t{1} << 20);
      cudaKernel_t k = type == kHalf ? kernels->addF16 : kernels->addBf16;
      CheckCuda(cuda.cudaLaunchKernel(reinterpret_cast<void const*>(k), dim3(static_cast<unsigned>(blocks)), dim3(threads), args, 0, s),
                "cudaLaunchKernel (LoRA merge: base + update)");
    }
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
    for (DeviceBuffer* b : used) b->BeginDeviceWork();
    auto finish = [used, env]() {
      for (DeviceBuffer* b : used) b->EndDeviceWork(env);
    };
    try {
      return WhenComplete(env, s, nullptr, nullptr, finish);
    } catch (...) {
      cuda.cudaStreamSynchronize(s);
      finish();
      throw;
    }
  });
}

// loraStatus(): whether the merge can run here (opens cuBLAS on first call); never throws.
Napi::Value LoraStatus(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  CublasApi& blas = CublasApi::Get();
  Napi::Object out = Napi::Object::New(env);
  out.Set("cublasLoaded", blas.loaded());
  if (blas.loaded()) out.Set("cublasPath", blas.path());
  Napi::Array errors = Napi::Array::New(env);
  for (auto const& e : blas.loadErrors()) errors.Set(errors.Length(), e);
  out.Set("cublasLoadErrors", errors);
  CudaApi& cuda = CudaApi::Get();
  Napi::Array missing = Napi::Array::New(env);
  if (cuda.loaded()) {
    for (auto const& m : cuda.missingOptional()) missing.Set(missing.Length(), m);
  }
  out.Set("kernelFunctionsMissing", missing);
  return out;
}

}  // namespace trt_refit
