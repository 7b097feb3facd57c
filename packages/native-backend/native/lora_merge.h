// `binding.cuda.loraMerge(spec)` and `binding.cuda.loraStatus()`: the LoRA merge on the device,
// W' = W + Σ alphaᵢ · Bᵢ · Aᵢ, with cuBLAS (cublas_api.h) for the products and, for HALF / BF16 weights, one
// kernel (lora_kernels.cu) that adds the FP32 update to the base read in its type and rounds once.
#pragma once

#include <napi.h>

namespace trt_refit {

Napi::Value LoraMerge(Napi::CallbackInfo const& info);
Napi::Value LoraStatus(Napi::CallbackInfo const& info);

}  // namespace trt_refit
