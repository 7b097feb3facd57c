// `binding.tensorrt`: compiled only when TensorRT headers were found at build time.
#pragma once

#include <napi.h>

#include <string>

#include "addon_data.h"

namespace trt_refit {

Napi::Object CreateTensorRtModule(Napi::Env env, AddonData& data);
std::string TensorRtHeaderVersion();

}  // namespace trt_refit
