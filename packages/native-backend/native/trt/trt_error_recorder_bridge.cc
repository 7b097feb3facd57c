#include "trt/trt_error_recorder_bridge.h"
#include "trt/trt_logger.h"

#include "common.h"

namespace trt_refit {


// -------------------------------------------------------------------------------------- ErrorRecorderBridge

void ErrorRecorderBridge::Init(Napi::Env env, AddonData& data) {
  data.Register("ErrorRecorderBridge", DefineClass(env, "ErrorRecorderBridge",
                                                   {
                                                       InstanceMethod<&ErrorRecorderBridge::Drain>("drain"),
                                                       InstanceMethod<&ErrorRecorderBridge::Clear>("clear"),
                                                       InstanceMethod<&ErrorRecorderBridge::Close>("close"),
                                                   }));
}

std::shared_ptr<NativeErrorRecorder> ErrorRecorderBridge::From(Napi::Env env, Napi::Value v, char const* parameter) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  Napi::Function ctor = AddonData::Of(env).Constructor(env, "ErrorRecorderBridge");
  TRT_REFIT_TYPE_CHECK(v.IsObject() && v.As<Napi::Object>().InstanceOf(ctor), env, parameter,
                       " must be an ErrorRecorderBridge or null");
  return Unwrap(v.As<Napi::Object>())->recorder_;
}

ErrorRecorderBridge::ErrorRecorderBridge(Napi::CallbackInfo const& info) : Napi::ObjectWrap<ErrorRecorderBridge>(info) {
  Napi::Env env = info.Env();
  TRT_REFIT_TYPE_CHECK(info[0].IsFunction(), env, "notify must be a function");
  size_t capacity = info[1].IsNumber() ? SizeArg(env, info[1], "capacity") : 1024;
  queue_ = std::make_shared<DrainQueue>(env, info[0].As<Napi::Function>(), capacity + 1);
  recorder_ = std::make_shared<NativeErrorRecorder>(queue_, capacity);
}

ErrorRecorderBridge::~ErrorRecorderBridge() { queue_->Close(); }

Napi::Value ErrorRecorderBridge::Drain(Napi::CallbackInfo const& info) {
  size_t dropped = 0;
  auto records = queue_->Take(dropped);
  return Records(info.Env(), records, dropped, static_cast<int32_t>(nvinfer1::ErrorCode::kUNSPECIFIED_ERROR));
}

Napi::Value ErrorRecorderBridge::Clear(Napi::CallbackInfo const& info) {
  recorder_->clear();
  return info.Env().Undefined();
}

Napi::Value ErrorRecorderBridge::Close(Napi::CallbackInfo const& info) {
  queue_->Close();
  return info.Env().Undefined();
}

}  // namespace trt_refit
