// Module entry: `binding.info` (how the addon was built), `binding.cuda`, and `binding.tensorrt` when TensorRT
// headers were found at build time. Nothing here touches CUDA or TensorRT: both are opened lazily on first use,
// so `require` of the addon never fails for want of them.
#include <napi.h>

#include "addon_data.h"
#include "common.h"
#include "cuda_api.h"
#include "cuda_module.h"

#if TRT_REFIT_WITH_TENSORRT
#include "trt/trt_module.h"
#endif

#ifndef TRT_REFIT_ADDON_VERSION
#define TRT_REFIT_ADDON_VERSION "0.0.0"
#endif

namespace trt_refit {

namespace {

Napi::Object BuildInfo(Napi::Env env) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("addonVersion", TRT_REFIT_ADDON_VERSION);
  info.Set("napiVersion", NAPI_VERSION);
  info.Set("cudaHeaderVersion", Concat(CUDART_VERSION / 1000, ".", (CUDART_VERSION % 1000) / 10));
#if TRT_REFIT_WITH_TENSORRT
  info.Set("tensorrt", true);
  info.Set("tensorrtHeaderVersion", TensorRtHeaderVersion());
#else
  info.Set("tensorrt", false);
  info.Set("tensorrtHeaderVersion", env.Null());
#endif
#if defined(__VERSION__)
  info.Set("compiler", __VERSION__);
#endif
  return info;
}

void Cleanup(AddonData* data) {
  data->shuttingDown = true;
  if (data->completions) data->completions->Stop();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  env.AddCleanupHook(Cleanup, data);
  exports.Set("info", BuildInfo(env));
  exports.Set("cuda", CreateCudaModule(env, *data));
#if TRT_REFIT_WITH_TENSORRT
  exports.Set("tensorrt", CreateTensorRtModule(env, *data));
#endif
  return exports;
}

}  // namespace trt_refit

static Napi::Object InitTrtRefit(Napi::Env env, Napi::Object exports) { return trt_refit::Init(env, exports); }

NODE_API_MODULE(trt_refit_native, InitTrtRefit)
