// `binding.cuda`: the CUDA half of the addon (device buffers, streams, events, device queries).
#pragma once

#include <napi.h>

#include "addon_data.h"

namespace trt_refit {

Napi::Object CreateCudaModule(Napi::Env env, AddonData& data);

}  // namespace trt_refit
