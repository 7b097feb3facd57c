// Device kernels of the LoRA merge, compiled to PTX by scripts/gen-lora-ptx.mjs into lora_kernels_ptx.h (checked
// in), which the addon loads at run time with cudaLibraryLoadData: the addon's build needs no nvcc, and the driver
// JIT-compiles the PTX for whatever GPU runs it (compute_75 and newer, as CUDA 13 supports).
//
// out[i] = round(float(base[i]) + delta[i]): the base weight read in its own type, the FP32 update (cuBLAS's
// product, already summed over every adapter) added in FP32, and the sum rounded once to the weight's type,
// to nearest even. `out` may be `base` (in place); `delta` never aliases either.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

extern "C" __global__ void trt_refit_lora_add_f16(const __half* base, const float* delta, __half* out, unsigned long long n) {
  for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
       i += (unsigned long long)gridDim.x * blockDim.x) {
    out[i] = __float2half_rn(__half2float(base[i]) + delta[i]);
  }
}

extern "C" __global__ void trt_refit_lora_add_bf16(const __nv_bfloat16* base, const float* delta, __nv_bfloat16* out,
                                                   unsigned long long n) {
  for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
       i += (unsigned long long)gridDim.x * blockDim.x) {
    out[i] = __float2bfloat16_rn(__bfloat162float(base[i]) + delta[i]);
  }
}
